package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Token purposes for mailed single-use tokens.
const (
	PurposeVerify = "verify"
	PurposeReset  = "reset"
)

// Token lifetimes: a confirmation link may wait in an inbox for days; a
// password reset link is a key to the account and expires within the hour.
const (
	VerifyTokenTTL = 72 * time.Hour
	ResetTokenTTL  = time.Hour
)

// EmailToken is a mailed single-use token; only its hash is stored.
type EmailToken struct {
	ID        int64
	UserID    int64
	Purpose   string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// APIToken is a bearer token for the JSON API; only its hash is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// RandomToken returns 32 random bytes, URL-safe encoded.
func RandomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 bits of
// randomness, so a fast hash is enough (no password stretching needed).
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// NewEmailToken stores a single-use token for user and purpose and returns
// the clear token to mail.
func (s *Store) NewEmailToken(ctx context.Context, userID int64, purpose string, ttl time.Duration) (string, error) {
	tok, err := RandomToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	row := &EmailToken{UserID: userID, Purpose: purpose, TokenHash: HashToken(tok), ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := s.db.WithContext(ctx).Create(row).Error; err != nil {
		return "", fmt.Errorf("new email token: %w", err)
	}
	return tok, nil
}

// useEmailToken marks an unexpired, unused token of purpose as used inside tx
// and returns its user id. Anything else is ErrBadToken.
func (s *Store) useEmailToken(tx *gorm.DB, token, purpose string) (int64, error) {
	var t EmailToken
	err := tx.Where("token_hash = ? AND purpose = ?", HashToken(token), purpose).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, ErrBadToken
	}
	if err != nil {
		return 0, err
	}
	now := s.now()
	if t.UsedAt != nil || !now.Before(t.ExpiresAt) {
		return 0, ErrBadToken
	}
	// The used_at IS NULL guard makes two concurrent uses of one token
	// succeed at most once.
	res := tx.Model(&EmailToken{}).Where("id = ? AND used_at IS NULL", t.ID).Update("used_at", now)
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected != 1 {
		return 0, ErrBadToken
	}
	return t.UserID, nil
}

// VerifyEmail confirms the address behind a mailed token.
func (s *Store) VerifyEmail(ctx context.Context, token string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		uid, err := s.useEmailToken(tx, token, PurposeVerify)
		if err != nil {
			return err
		}
		if err := tx.First(&u, uid).Error; err != nil {
			return notFound(err)
		}
		if u.EmailVerifiedAt == nil {
			now := s.now()
			u.EmailVerifiedAt = &now
			return tx.Model(&u).Updates(map[string]any{"email_verified_at": now, "updated_at": now}).Error
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify email: %w", err)
	}
	return &u, nil
}

// CreateAPIToken issues a bearer token for user and returns it in clear once.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64) (string, error) {
	tok, err := RandomToken()
	if err != nil {
		return "", err
	}
	row := &APIToken{UserID: userID, TokenHash: HashToken(tok), CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(row).Error; err != nil {
		return "", fmt.Errorf("create api token: %w", err)
	}
	return tok, nil
}

// UserByAPIToken returns the owner of a bearer token, or ErrUnauthenticated.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).
		Joins("JOIN api_tokens ON api_tokens.user_id = users.id").
		Where("api_tokens.token_hash = ?", HashToken(token)).
		First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("user by api token: %w", err)
	}
	return &u, nil
}

// ResetPassword sets a new password with a mailed reset token. It confirms
// the address too (the user proved they read its mail) and ends every
// session of the user.
func (s *Store) ResetPassword(ctx context.Context, token, password string) (*User, error) {
	if msg := PasswordProblem(password); msg != "" {
		return nil, ValidationError{"password": msg}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var u User
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		uid, err := s.useEmailToken(tx, token, PurposeReset)
		if err != nil {
			return err
		}
		if err := tx.First(&u, uid).Error; err != nil {
			return notFound(err)
		}
		return s.setPassword(tx, &u, hash, true)
	})
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return &u, nil
}

// ChangePassword replaces a signed-in user's password after checking the
// current one, and ends every session of the user.
func (s *Store) ChangePassword(ctx context.Context, u *User, current, password string) error {
	ok, err := CheckPassword(u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return ValidationError{"current_password": "This is not your current password."}
	}
	if msg := PasswordProblem(password); msg != "" {
		return ValidationError{"password": msg}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.setPassword(tx, u, hash, false)
	})
}

// setPassword stores a new hash, optionally confirms the address, and ends
// the user's sessions and API tokens.
func (s *Store) setPassword(tx *gorm.DB, u *User, hash string, verify bool) error {
	now := s.now()
	upd := map[string]any{"password_hash": hash, "password_changed_at": now, "updated_at": now}
	if verify && u.EmailVerifiedAt == nil {
		upd["email_verified_at"] = now
		u.EmailVerifiedAt = &now
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(upd).Error; err != nil {
		return err
	}
	u.PasswordHash, u.PasswordChangedAt = hash, now
	// Whoever knew the old password may have made API tokens with it.
	if err := tx.Where("user_id = ?", u.ID).Delete(&APIToken{}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ?", u.ID).Delete(&SessionRow{}).Error
}
