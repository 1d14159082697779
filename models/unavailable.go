package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// Unavailable reports whether err means the database cannot take writes or
// answer right now (disk full, read-only or failing storage, lost
// connection): a condition that clears by itself or by an operator, worth a
// 503 and a retry rather than a 500.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var le sqlite3.Error
	if errors.As(err, &le) {
		switch le.Code {
		case sqlite3.ErrFull, sqlite3.ErrReadonly, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrBusy, sqlite3.ErrLocked:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 53: insufficient resources (disk
		// full, out of memory, too many connections); 57P: operator
		// intervention (shutdown, cannot connect now); 25006: read-only
		// transaction (a standby).
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") ||
			strings.HasPrefix(pe.Code, "57P") || pe.Code == "25006"
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) || pgconn.SafeToRetry(err)
}
