package eventlog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Issue 19 item 5: events reach the file as whole lines, on a timer, while
// the run goes on; nothing waits for Close.
func TestEventsReachTheFileWhileRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.OnEvent(runtime.Event{Kind: runtime.EventRunStarted, Time: time.Now()})
	deadline := time.Now().Add(10 * time.Second) // FlushEvery is 100ms; the margin is for a loaded machine
	for {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(`"event":"run_started"`)) {
			if !bytes.HasSuffix(b, []byte("\n")) {
				t.Fatalf("file ends mid-line: %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event did not reach the file before Close")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Many large events: the file holds whole lines at every moment.
func TestEventLinesAreWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 3000)
	for i := range 200 {
		w.OnEvent(runtime.Event{Kind: runtime.EventItemFailed, Item: big, Attempt: i + 1})
		if i%20 == 0 {
			b, _ := os.ReadFile(path)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				t.Fatalf("after %d events the file ends mid-line (%d bytes)", i+1, len(b))
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	if err := Read(f, func(e runtime.Event) error { n++; return nil }); err != nil || n != 200 {
		t.Fatalf("read back %d events, %v; want 200", n, err)
	}
}

func TestReadSkipsATornLastLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int
		err      string
	}{
		{"whole", "{\"event\":\"run_started\"}\n{\"event\":\"run_finished\"}\n", 2, ""},
		{"torn last line", "{\"event\":\"run_started\"}\n{\"event\":\"item_succ", 1, ""},
		{"torn but valid-looking", "{\"event\":\"run_started\"}\n{\"event\":\"run_finished\"}", 1, ""},
		{"empty", "", 0, ""},
		{"damaged middle line", "{\"event\":\"run_started\"}\n{\"ev\n{\"event\":\"run_finished\"}\n", 1, "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := Read(strings.NewReader(tc.in), func(runtime.Event) error { n++; return nil })
			if n != tc.want {
				t.Errorf("read %d events, want %d", n, tc.want)
			}
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// Open changes nothing: a run that cannot start leaves the old log.
func TestEventLogOpenKeepsTheOldLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Errorf("log after a run with no events: %q", b)
	}
	fresh := filepath.Join(dir, "new.jsonl")
	w, err = Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a log that got no event was left behind: %v", err)
	}
}
