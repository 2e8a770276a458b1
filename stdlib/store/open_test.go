package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestSecondWriterIsLockedOut(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "a", Fingerprint: "f", OK: true}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path, Options{})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want a *LockedError", err)
	}
	if le.PID != os.Getpid() {
		t.Errorf("LockedError.PID = %d, want %d", le.PID, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, strconv.Itoa(os.Getpid())) {
		t.Errorf("message %q does not name the file and the pid", msg)
	}

	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open beside a writer: %v", err)
	}
	defer ro.Close()
	if r, err := ro.Lookup(ctx, "s", "a", "f"); err != nil || r == nil {
		t.Errorf("read-only Lookup = %v, %v", r, err)
	}

	// Closing releases the lock for the next run.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestCorruptFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"garbage", func(*testing.T) []byte { return []byte(strings.Repeat("this is not a database\n", 300)) }},
		{"damaged pages", func(t *testing.T) []byte {
			// A real store whose pages after the header are overwritten.
			s, path := openTemp(t, Options{})
			for i := range 200 {
				if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: strconv.Itoa(i), Fingerprint: strings.Repeat("f", 200), OK: true}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 4096 + 100; i < len(data); i++ {
				data[i] = byte(i * 7)
			}
			return data
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(path, tc.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				s, err := Open(ctx, path, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatalf("Open(ReadOnly=%v) of a damaged file succeeded", ro)
				}
				var ce *CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Errorf("Open(ReadOnly=%v): %v, want a *CorruptError", ro, err)
				}
				if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--store NEW") {
					t.Errorf("message %q should name the file and the way out", err)
				}
			}
			// A failed Open must not keep the lock.
			if l, err := lockFile(path, path); err != nil {
				t.Errorf("lock still held after failed Open: %v", err)
			} else {
				l.release()
			}
		})
	}
}

// TestMigrateFromV1 builds a file at schema v1, as an older llmpipe would
// have left it, and checks that Open upgrades it and keeps its data.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", dsn(path, "_pragma=journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO results (step, item, fingerprint, ok, output) VALUES ('s', 'a', 'f', 1, '"old"')`); err != nil {
		t.Fatal(err)
	}
	if v, _ := userVersion(ctx, db); v != 1 {
		t.Fatalf("test file at version %d", v)
	}
	db.Close()

	// A read-only command cannot upgrade, and says so.
	if _, err := Open(ctx, path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("read-only Open of v1: %v", err)
	}

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := userVersion(ctx, s.r); err != nil || v != schemaVersion {
		t.Errorf("version after upgrade = %d, %v; want %d", v, err, schemaVersion)
	}
	// The upgrade marks a store that predates the mark.
	var app int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil || app != ApplicationID {
		t.Errorf("application_id after upgrade = %#x, %v; want %#x", app, err, ApplicationID)
	}
	if r, err := s.Lookup(ctx, "s", "a", "f"); err != nil || r == nil || string(r.Output) != `"old"` {
		t.Errorf("v1 row after upgrade = %+v, %v", r, err)
	}
	// The v2 table works.
	if err := s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: "a", Status: "ok"}); err != nil {
		t.Fatal(err)
	}
	if h, err := s.History(ctx, "a"); err != nil || len(h.Attempts) != 1 {
		t.Errorf("History after upgrade = %+v, %v", h, err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	if _, err := s.w.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(ctx, path, Options{ReadOnly: ro})
		if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(ReadOnly=%v) of a v99 file: %v", ro, err)
		}
	}
}

func TestDurableAfterClose(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	want := &runtime.Result{Step: "s", Item: "a", Fingerprint: "f", OK: true, Attempts: 2}
	if err := s.Commit(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: "a", Status: "ok"}); err != nil {
		t.Fatal(err)
	}
	// Close must flush the buffered attempt too.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.Lookup(ctx, "s", "a", "f")
	if err != nil || got == nil || got.Attempts != 2 {
		t.Errorf("Lookup after reopen = %+v, %v", got, err)
	}
	if h, err := ro.History(ctx, "a"); err != nil || len(h.Attempts) != 1 {
		t.Errorf("History after reopen = %+v, %v", h, err)
	}
}

func TestPathWithQuestionMark(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "odd?name#x%20.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the path given: %v", err)
	}
}
