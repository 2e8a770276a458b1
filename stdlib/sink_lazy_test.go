package stdlib

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// Issue 19 item 1: opening a sink changes nothing; the first record empties
// the file; Abort (a run that stopped before its first record) leaves it as
// it was, or removes what Open created.
func TestSinkTruncatesOnFirstRecord(t *testing.T) {
	ctx := context.Background()
	step := &interp.Step{Name: "answer"}
	for _, kind := range []string{"jsonl", "csv"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out."+kind)
			const old = "an earlier run's output\n"
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			def := &interp.Sink{Name: "s", Kind: kind, Path: path, From: step}
			read := func() string {
				t.Helper()
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}

			// Open, then abort: untouched.
			s, err := OpenSink(ctx, def)
			if err != nil {
				t.Fatal(err)
			}
			if got := read(); got != old {
				t.Fatalf("after Open: %q, want the old content", got)
			}
			if err := s.(runtime.Aborter).Abort(); err != nil {
				t.Fatal(err)
			}
			if got := read(); got != old {
				t.Fatalf("after Abort: %q, want the old content", got)
			}

			// Open, write: the old content is gone, the record is there.
			s, err = OpenSink(ctx, def)
			if err != nil {
				t.Fatal(err)
			}
			rec := &runtime.Record{ID: "1", Step: "answer", Item: map[string]any{}, Outputs: map[string]any{"answer": "yes"}, Order: []string{"answer"}}
			if err := s.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			got := read()
			if got == old || len(got) == 0 || !contains(got, "yes") || contains(got, "earlier") {
				t.Fatalf("after a record: %q", got)
			}

			// Open, close with no record (a run that completed with
			// nothing for this sink): empty, but for a csv header.
			s, err = OpenSink(ctx, def)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			want := ""
			if kind == "csv" {
				want = "id,answer\n"
			}
			if got := read(); got != want {
				t.Fatalf("after a completed run with no records: %q, want %q", got, want)
			}

			// A file (and directories) that Open created are gone after Abort.
			def2 := &interp.Sink{Name: "s2", Kind: kind, Path: filepath.Join(dir, "a", "b", "new."+kind), From: step}
			s, err = OpenSink(ctx, def2)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.(runtime.Aborter).Abort(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
				t.Errorf("Abort left what Open created: %v", err)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
