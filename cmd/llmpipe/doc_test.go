package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// docs/language.md is `llmpipe doc`'s output, so the page a reader opens and
// the command agree, and both follow the checker's tables.
func TestLanguageDocIsCurrent(t *testing.T) {
	var out bytes.Buffer
	if code := run(t.Context(), []string{"doc"}, strings.NewReader(""), &out, &out); code != exitOK {
		t.Fatalf("llmpipe doc exited %d: %s", code, out.String())
	}
	want, err := os.ReadFile("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatal("docs/language.md differs from `llmpipe doc`; regenerate it: go run ./cmd/llmpipe doc > docs/language.md")
	}
	for _, s := range []string{"### step", "`escalate_after`", "### truncate", "a test block's `expect` lines", "`jsonl`"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the reference lacks %q", s)
		}
	}
}
