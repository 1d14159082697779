package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Sentinel errors the HTTP layer maps to status codes in one place.
var (
	// ErrNotFound means the record does not exist or the caller may not know it does.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the caller is known but not allowed to do this.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidTransition means a moderation move the rules do not allow.
	ErrInvalidTransition = errors.New("invalid status transition")
	// ErrConflict means the request clashes with the current state (a closed
	// consultation, a duplicate slug).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated means a wrong e-mail and password pair or a bad token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrBadToken means a used, expired or unknown single-use token.
	ErrBadToken = errors.New("invalid or expired token")
)

// PublicError wraps an error with a message that is safe to show to the user.
type PublicError struct {
	Err     error
	Message string
}

func (e *PublicError) Error() string { return e.Message + ": " + e.Err.Error() }
func (e *PublicError) Unwrap() error { return e.Err }

// public wraps kind with a message for the user.
func public(kind error, format string, args ...any) error {
	return &PublicError{Err: kind, Message: fmt.Sprintf(format, args...)}
}

// ValidationError maps form fields to what is wrong with them (422).
type ValidationError map[string]string

func (v ValidationError) Error() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+v[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// errOrNil returns v as an error when it has entries, else nil.
func (v ValidationError) errOrNil() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

// TooLargeError says an input is over its size limit (413), naming the
// field for forms.
type TooLargeError struct {
	Field   string
	Message string
}

func (e *TooLargeError) Error() string { return e.Field + ": " + e.Message }

// RateLimitError says a limit was hit and when to try again (429).
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s", e.RetryAfter)
}
