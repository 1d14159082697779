package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Roles.
const (
	RoleCommenter = "commenter"
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

// Field limits for accounts.
const (
	MaxNameLength        = 200
	MaxAffiliationLength = 300
	MaxEmailLength       = 254
)

// User is an account.
type User struct {
	ID                int64
	Email             string
	Name              string
	PasswordHash      string
	Affiliation       string
	StakeholderGroup  string
	Country           string
	Role              string
	EmailVerifiedAt   *time.Time
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Verified reports whether the user has confirmed their e-mail address.
func (u *User) Verified() bool { return u.EmailVerifiedAt != nil }

// IsModerator reports whether the user may moderate (moderators and admins).
func (u *User) IsModerator() bool { return u.Role == RoleModerator || u.Role == RoleAdmin }

// IsAdmin reports whether the user is an administrator.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// SystemActor stands for the operator at the command line: it has the
// rights of an admin and no account.
func SystemActor() *User { return &User{Name: "margin CLI", Role: RoleAdmin} }

// NewUser is what registration asks for.
type NewUser struct {
	Name             string
	Email            string
	Password         string
	Affiliation      string
	StakeholderGroup string
	Country          string
	Role             string // empty means commenter
	Verified         bool   // created with a confirmed address (admins from the CLI)
}

// NormalizeEmail lower-cases and trims an address so that uniqueness is
// case-insensitive everywhere.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks every field and returns a ValidationError listing them.
func (n *NewUser) Validate() error {
	v := ValidationError{}
	n.Name = strings.TrimSpace(n.Name)
	n.Affiliation = strings.TrimSpace(n.Affiliation)
	n.Email = NormalizeEmail(n.Email)
	n.Country = strings.ToUpper(strings.TrimSpace(n.Country))
	checkText(v, "name", n.Name, MaxNameLength, true)
	checkText(v, "affiliation", n.Affiliation, MaxAffiliationLength, false)
	if _, ok := v["name"]; !ok && strings.ContainsAny(n.Name, "\r\n") {
		v["name"] = "Name must be on one line."
	}
	if _, ok := v["affiliation"]; !ok && strings.ContainsAny(n.Affiliation, "\r\n") {
		v["affiliation"] = "Affiliation must be on one line."
	}
	switch {
	case n.Email == "":
		v["email"] = "Enter your e-mail address."
	case len(n.Email) > MaxEmailLength || !validEmail(n.Email):
		v["email"] = "Enter a valid e-mail address, like name@example.org."
	}
	if msg := PasswordProblem(n.Password); msg != "" {
		v["password"] = msg
	} else if pw := strings.ToLower(n.Password); pw == n.Email || pw == strings.ToLower(n.Name) {
		v["password"] = "Do not use your e-mail address or name as the password."
	}
	if n.Role == "" {
		n.Role = RoleCommenter
	}
	// Staff accounts made by an admin or the CLI may leave these empty;
	// everyone who comments must give them.
	staff := n.Role != RoleCommenter
	if !validOption(StakeholderGroups, n.StakeholderGroup) && (!staff || n.StakeholderGroup != "") {
		v["stakeholder_group"] = "Choose your stakeholder group."
	}
	if !validCountry(n.Country) && (!staff || n.Country != "") {
		v["country"] = "Choose your country."
	}
	if !validOption(Roles, n.Role) {
		v["role"] = "Unknown role."
	}
	return v.errOrNil()
}

// validEmail accepts a bare addr-spec with a dotted domain and nothing that
// could inject mail headers.
func validEmail(s string) bool {
	if strings.ContainsAny(s, "\r\n<>,;\" ") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// safeText reports whether s may be sent to any database as a query
// parameter: valid UTF-8 without NUL bytes.
func safeText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// checkText validates a free-text field: valid UTF-8, no NUL, within max runes.
func checkText(v ValidationError, field, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		v[field] = "Contains invalid characters (not UTF-8)."
	case strings.ContainsRune(s, 0):
		v[field] = "Contains a NUL character."
	case required && strings.TrimSpace(s) == "":
		v[field] = "This field is required."
	case utf8.RuneCountInString(s) > max:
		v[field] = fmt.Sprintf("Use at most %d characters.", max)
	}
}

// CreateUser validates and stores a new account. A taken e-mail address is
// ErrConflict.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &User{
		Email: n.Email, Name: n.Name, PasswordHash: hash, Affiliation: n.Affiliation,
		StakeholderGroup: n.StakeholderGroup, Country: n.Country, Role: n.Role,
		PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if n.Verified {
		u.EmailVerifiedAt = &now
	}
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, public(ErrConflict, "An account with this e-mail address already exists.")
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByID loads a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).First(&u, id).Error; err != nil {
		return nil, fmt.Errorf("user %d: %w", id, notFound(err))
	}
	return &u, nil
}

// UserByEmail loads a user by address, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	if !safeText(email) || len(email) > MaxEmailLength {
		return nil, fmt.Errorf("user by email: %w", ErrNotFound)
	}
	var u User
	if err := s.db.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).First(&u).Error; err != nil {
		return nil, fmt.Errorf("user by email: %w", notFound(err))
	}
	return &u, nil
}

// Authenticate checks an e-mail and password pair. Unknown addresses cost
// the same hashing time as known ones.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_, _ = CheckPassword(dummyHash, password)
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return nil, ErrUnauthenticated
	}
	return u, nil
}

// ListUsers returns every user, newest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetRole changes a user's role. An admin cannot demote the last admin.
func (s *Store) SetRole(ctx context.Context, actor *User, userID int64, role string) error {
	if actor == nil || !actor.IsAdmin() {
		return ErrForbidden
	}
	if !validOption(Roles, role) {
		return ValidationError{"role": "Unknown role."}
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.First(&u, userID).Error; err != nil {
			return notFound(err)
		}
		if u.Role == RoleAdmin && role != RoleAdmin {
			var admins int64
			if err := tx.Model(&User{}).Where("role = ?", RoleAdmin).Count(&admins).Error; err != nil {
				return err
			}
			if admins <= 1 {
				return public(ErrConflict, "The last administrator cannot be demoted.")
			}
		}
		return tx.Model(&u).Updates(map[string]any{"role": role, "updated_at": s.now()}).Error
	})
}

// HasAdmin reports whether any administrator exists.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Where("role = ?", RoleAdmin).Count(&n).Error; err != nil {
		return false, fmt.Errorf("has admin: %w", err)
	}
	return n > 0, nil
}

// EnsureAdmin creates a verified admin with this e-mail and password unless a
// user with that e-mail exists. It reports whether it created one.
func (s *Store) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	_, err := s.UserByEmail(ctx, email)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	_, err = s.CreateUser(ctx, NewUser{
		Name: "Administrator", Email: email, Password: password,
		StakeholderGroup: "other", Role: RoleAdmin, Verified: true,
	})
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	return true, nil
}
