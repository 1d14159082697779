package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// StatusWithdrawn is how a withdrawn comment's audit entry and views name
// its state; it is not a moderation status.
const StatusWithdrawn = "withdrawn"

// ownPending loads a comment for its author's change inside tx: anyone but
// the author gets ErrNotFound (others may not know it exists), and only a
// pending, not withdrawn comment may change.
func ownPending(tx *gorm.DB, author *User, id int64) (*Comment, error) {
	if author == nil {
		return nil, ErrUnauthenticated
	}
	var c Comment
	if err := tx.First(&c, id).Error; err != nil {
		return nil, notFound(err)
	}
	if c.UserID != author.ID {
		return nil, ErrNotFound
	}
	if c.Status != StatusPending || c.Withdrawn() {
		return nil, public(ErrConflict, "Only a comment still waiting for the moderators can be changed.")
	}
	return &c, nil
}

// UpdateOwnComment lets an author rewrite a pending comment: body, proposed
// text, kind and visibility (not its paragraphs).
func (s *Store) UpdateOwnComment(ctx context.Context, author *User, id int64, n NewComment) (*Comment, error) {
	n.ParagraphIDs = nil
	if v := n.validate(); len(v) > 0 {
		return nil, v
	}
	var out *Comment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := ownPending(tx, author, id)
		if err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&Comment{}).Where("id = ? AND status = ? AND withdrawn_at IS NULL", c.ID, StatusPending).Updates(map[string]any{
			"body": n.Body, "proposed_text": n.ProposedText, "kind": n.Kind, "visibility": n.Visibility, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return public(ErrConflict, "The comment was decided meanwhile and can no longer be changed.")
		}
		c.Body, c.ProposedText, c.Kind, c.Visibility, c.UpdatedAt = n.Body, n.ProposedText, n.Kind, n.Visibility, now
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update comment %d: %w", id, err)
	}
	return out, nil
}

// WithdrawComment lets an author take back a pending comment. The row stays
// for the record and an audit entry names the author.
func (s *Store) WithdrawComment(ctx context.Context, author *User, id int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := ownPending(tx, author, id)
		if err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&Comment{}).Where("id = ? AND status = ? AND withdrawn_at IS NULL", c.ID, StatusPending).
			Updates(map[string]any{"withdrawn_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return public(ErrConflict, "The comment was decided meanwhile and can no longer be withdrawn.")
		}
		return tx.Create(&Decision{
			CommentID: c.ID, ActorID: &author.ID, FromStatus: StatusPending, ToStatus: StatusWithdrawn, CreatedAt: now,
		}).Error
	})
	if err != nil {
		return fmt.Errorf("withdraw comment %d: %w", id, err)
	}
	return nil
}
