package store

import (
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrLocked is matched (errors.Is) by a *LockedError.
	ErrLocked = errors.New("store is locked")
	// ErrCorrupt is matched (errors.Is) by a *CorruptError.
	ErrCorrupt = errors.New("store is damaged")
	// ErrReadOnly is returned by writes on a store opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store is open read-only")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("store is closed")
)

// LockedError says another process holds the store's write lock.
type LockedError struct {
	Path string // the database file
	PID  int    // the holder's pid, 0 when it could not be read
}

func (e *LockedError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("another llmpipe (pid %d)", e.PID)
	}
	return fmt.Sprintf("store %s is in use by %s: wait for it to finish or pass another --store", e.Path, holder)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// CorruptError says the file is not a usable llmpipe store.
type CorruptError struct {
	Path string
	Err  error // what SQLite (or the check) reported
}

func (e *CorruptError) Error() string {
	// quick_check reports one problem per line; keep the message on one.
	cause := strings.Join(strings.Fields(e.Err.Error()), " ")
	return fmt.Sprintf("store %s is damaged (%s): move it aside and run again, or pass --store NEW", e.Path, cause)
}

// Is makes errors.Is(err, ErrCorrupt) hold while Unwrap still exposes the cause.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func (e *CorruptError) Unwrap() error { return e.Err }

// corrupt turns SQLite's "this is not a database" and "database disk image
// is malformed" into a *CorruptError for path; other errors pass unchanged.
func corrupt(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	// Code may be an extended result code; the primary code is its low byte.
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return &CorruptError{Path: path, Err: err}
	}
	return err
}

// isConstraint reports whether err is SQLite's constraint violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// ErrForeign is matched (errors.Is) by a *ForeignError.
var ErrForeign = errors.New("not an llmpipe store")

// ForeignError says the file is an SQLite database that belongs to another
// program: neither empty nor marked with ApplicationID. Open leaves it as it
// was.
type ForeignError struct {
	Path string
	Why  string // what gave it away
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s is not an llmpipe store (%s): llmpipe will not add its tables to it; pass --store with another path", e.Path, e.Why)
}

func (e *ForeignError) Unwrap() error { return ErrForeign }
