package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/store"
)

const storeJob = `
source s {
  lines = "in.txt"
}

step answer {
  from   = s
  models = ["gemini-2.5-flash-lite"]
  prompt = "Answer: {{ item.text }}"
}

sink out {
  from  = answer
  jsonl = "out/answers.jsonl"
}
`

// storeDir writes a small pipeline and returns its path and a store path.
func storeDir(t *testing.T) (job, db string) {
	t.Helper()
	dir := t.TempDir()
	job = filepath.Join(dir, "job.llmp")
	if err := os.WriteFile(job, []byte(storeJob), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return job, filepath.Join(dir, "s.db")
}

func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

// A second run on a store in use refuses with a message that names the
// file, the holder and what to do; status still reads it meanwhile.
func TestRunRefusesStoreInUse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	job, db := storeDir(t)
	if code, _, stderr := runCLI(ctx, "run", job, "--sim", "--store", db, "--quiet"); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	// Hold the store as a running llmpipe would. flock locks belong to the
	// open file, so this conflicts with an open in the same process too.
	held, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	code, _, stderr := runCLI(ctx, "run", job, "--sim", "--store", db, "--quiet")
	if code != exitError {
		t.Errorf("run on a held store: exit %d, want %d\n%s", code, exitError, stderr)
	}
	for _, want := range []string{db, "in use", fmt.Sprintf("pid %d", os.Getpid()), "--store"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("run on a held store: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("the refusal should be one line:\n%s", stderr)
	}

	code, stdout, stderr := runCLI(ctx, "status", job, "--store", db)
	if code != exitOK || !strings.Contains(stdout, "answer") {
		t.Errorf("status beside a held store: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A store whose pages are damaged (not just a foreign file: that is in
// store_damaged.txtar) gives exit 1 and a message saying what to do.
func TestRunReportsDamagedStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	job, db := storeDir(t)
	if code, _, stderr := runCLI(ctx, "run", job, "--sim", "--store", db, "--quiet"); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(db + "-wal"); err == nil {
		t.Fatalf("%s-wal is still there after a clean close; the damage below would miss the data", db)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the 100-byte header, so it is still "an SQLite file", and
	// scribble over every page after the first.
	const page = 4096
	if len(b) <= page {
		t.Fatalf("store is only %d bytes", len(b))
	}
	for i := page; i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(db, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"run", job, "--sim", "--store", db, "--quiet"},
		{"status", job, "--store", db},
		{"show", job, "1", "--store", db},
	} {
		code, _, stderr := runCLI(ctx, args...)
		if code != exitError {
			t.Errorf("%s on a damaged store: exit %d, want %d\n%s", args[0], code, exitError, stderr)
		}
		for _, want := range []string{db, "damaged", "move it aside"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s on a damaged store: stderr lacks %q:\n%s", args[0], want, stderr)
			}
		}
	}
}
