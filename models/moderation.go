package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// moves lists, for each status, the statuses a moderator may move it to.
// Pending may go anywhere; a deferred comment gets its final answer (or is
// found to be spam); an accepted or rejected one can be reopened as deferred.
var moves = map[string][]string{
	StatusPending:  {StatusAccepted, StatusDeferred, StatusRejected, StatusSpam},
	StatusDeferred: {StatusAccepted, StatusRejected, StatusSpam},
	StatusAccepted: {StatusDeferred},
	StatusRejected: {StatusDeferred},
	StatusSpam:     {},
}

// AllowedMoves returns the statuses a comment in status from may move to.
func AllowedMoves(from string) []string { return moves[from] }

// CanMove reports whether a moderator may move a comment from one status to
// another.
func CanMove(from, to string) bool {
	for _, s := range moves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Decision is one audit-log entry: a moderator moved a comment.
type Decision struct {
	ID         int64
	CommentID  int64
	ActorID    *int64
	FromStatus string
	ToStatus   string
	Response   string
	CreatedAt  time.Time
}

// TableName names the audit table.
func (Decision) TableName() string { return "comment_decisions" }

// Decide records a moderator's decision on a comment: it checks the move, the
// response, and writes the change and its audit entry in one transaction.
// This is the only function that changes a comment's status.
func (s *Store) Decide(ctx context.Context, actor *User, commentID int64, to, response string) (*Comment, error) {
	if actor == nil || !actor.IsModerator() {
		return nil, ErrForbidden
	}
	response = strings.TrimSpace(response)
	v := ValidationError{}
	if !validOption(Statuses, to) || to == StatusPending {
		v["status"] = "Choose accepted, deferred, rejected or spam."
	}
	checkText(v, "response", response, MaxResponseLength, false)
	if to == StatusRejected && response == "" && v["response"] == "" {
		v["response"] = "Explain why the comment is rejected: the commenter will read this."
	}
	if len(v) > 0 {
		return nil, v
	}
	var c Comment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&c, commentID).Error; err != nil {
			return notFound(err)
		}
		from := c.Status
		if c.Withdrawn() {
			return public(ErrInvalidTransition, "The author withdrew this comment.")
		}
		if !CanMove(from, to) {
			return public(ErrInvalidTransition, "A %s comment cannot be marked %s.", from, to)
		}
		now := s.now()
		// The status guard makes a concurrent decision on the same comment
		// fail instead of silently overwriting the other.
		res := tx.Model(&Comment{}).Where("id = ? AND status = ?", c.ID, from).Updates(map[string]any{
			"status": to, "response": response, "decided_at": now, "decided_by": actor.ID, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return public(ErrInvalidTransition, "The comment was decided by someone else meanwhile.")
		}
		c.Status, c.Response, c.DecidedAt, c.DecidedBy, c.UpdatedAt = to, response, &now, &actor.ID, now
		return tx.Create(&Decision{
			CommentID: c.ID, ActorID: &actor.ID, FromStatus: from, ToStatus: to, Response: response, CreatedAt: now,
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("decide comment %d: %w", commentID, err)
	}
	return &c, nil
}

// DecisionEntry is an audit-log entry with the moderator's name.
type DecisionEntry struct {
	Decision
	ActorName string
}

// Decisions returns the audit log of a comment, oldest first. Moderators only.
func (s *Store) Decisions(ctx context.Context, viewer *User, commentID int64) ([]DecisionEntry, error) {
	if viewer == nil || !viewer.IsModerator() {
		return nil, ErrForbidden
	}
	var out []DecisionEntry
	err := s.db.WithContext(ctx).Table("comment_decisions cd").
		Select("cd.*, COALESCE(u.name, '') AS actor_name").
		Joins("LEFT JOIN users u ON u.id = cd.actor_id").
		Where("cd.comment_id = ?", commentID).Order("cd.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	return out, nil
}

// QueueFilter selects a page of the moderation queue.
type QueueFilter struct {
	DocumentID int64  // 0 for every document
	Status     string // default pending
	AfterID    int64  // cursor
	Limit      int
}

// Queue returns a page of comments for moderators, oldest first, and the
// cursor of the next page (0 on the last).
func (s *Store) Queue(ctx context.Context, viewer *User, f QueueFilter) ([]CommentDetail, int64, error) {
	if viewer == nil || !viewer.IsModerator() {
		return nil, 0, ErrForbidden
	}
	if f.Status == "" {
		f.Status = StatusPending
	}
	if !validOption(Statuses, f.Status) {
		return nil, 0, ValidationError{"status": "Unknown status."}
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	cs, err := s.Comments(ctx, viewer, CommentFilter{
		DocumentID: f.DocumentID, Statuses: []string{f.Status}, AfterID: f.AfterID, Limit: f.Limit + 1, OrderByID: true, Live: true,
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(cs) > f.Limit {
		cs = cs[:f.Limit]
		next = cs[len(cs)-1].ID
	}
	return cs, next, nil
}
