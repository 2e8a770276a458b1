package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// foreignDB makes an SQLite file as another program would: its own table,
// and optionally its own application_id and user_version.
func foreignDB(t *testing.T, pragmas ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := append([]string{`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes (body) VALUES ('mine')`}, pragmas...)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestForeignDatabaseIsRefused is issue 19 item 13: --store pointing at
// another program's SQLite file must not add tables to it.
func TestForeignDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		pragmas []string
	}{
		{"unmarked", nil},
		{"other application_id", []string{"PRAGMA application_id = 1234"}},
		{"unmarked with a user_version", []string{"PRAGMA user_version = 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := foreignDB(t, tc.pragmas...)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				s, err := Open(ctx, path, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatalf("Open(ReadOnly=%v) of another program's database succeeded", ro)
				}
				var fe *ForeignError
				if !errors.As(err, &fe) || !errors.Is(err, ErrForeign) {
					t.Errorf("Open(ReadOnly=%v): %v, want a *ForeignError", ro, err)
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "not an llmpipe store") {
					t.Errorf("message %q does not name the file and say what is wrong", msg)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("the foreign database changed")
			}
			for _, suffix := range []string{"-wal", "-shm", ".lock"} {
				if _, err := os.Stat(path + suffix); err == nil {
					t.Errorf("Open left %s beside the foreign database", filepath.Base(path+suffix))
				}
			}
		})
	}
}

// TestStoreIsMarked checks that a new store carries llmpipe's
// application_id, and that an empty SQLite file is taken as new.
func TestStoreIsMarked(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	var id int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id != ApplicationID {
		t.Errorf("application_id = %#x, want %#x", id, ApplicationID)
	}

	// An SQLite file with nothing in it is a new store.
	path := filepath.Join(t.TempDir(), "empty.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 0"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open of an empty SQLite file: %v", err)
	}
	s2.Close()
}
