package sim

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestIssue19LogIsTailable: each request's line reaches the --log file
// while the server runs, so the log can be tailed during a run.
func TestIssue19LogIsTailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	s := startSim(t, func(c *Config) { c.LogFile = path })
	c := newClient(t, s)
	if _, err := generate(t, c, flash, "hello", withItem(nil, "tail-me")); err != nil {
		t.Fatal(err)
	}
	// The flush is due within 100 ms; allow a loaded machine 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"item":"tail-me"`)) {
			if !bytes.HasSuffix(b, []byte("\n")) {
				t.Errorf("log ends in a torn line: %q", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the request while the server runs; file holds %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testLine is a line kind other than LogEntry, as the batch endpoints add.
type testLine struct{ Job string }

func (l *testLine) appendLine(b []byte) []byte {
	b = append(b, `{"job":`...)
	b = appendString(b, l.Job)
	return append(b, "}\n"...)
}

// TestIssue19LogFlushCadence: lines written are in the file 100 ms later
// (fake time), of every kind, in order, and on close.
func TestIssue19LogFlushCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.jsonl")
		l, err := openLog(path, false)
		if err != nil {
			t.Fatal(err)
		}
		read := func() string {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		l.add(&LogEntry{Method: "POST", Path: "/a", Item: "one", Status: 200})
		l.write(&testLine{Job: "batches/1"})
		time.Sleep(logFlushEvery)
		synctest.Wait()
		got := read()
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"item":"one"`) || lines[1] != `{"job":"batches/1"}` {
			t.Fatalf("after %v the log holds %q, want both lines", logFlushEvery, got)
		}
		for _, line := range lines {
			if !json.Valid([]byte(line)) {
				t.Errorf("line %q is not JSON", line)
			}
		}
		// Lines that overflow the buffer: the file still ends in a whole line.
		big := json.RawMessage(`"` + strings.Repeat("x", 100<<10) + `"`)
		for range 4 {
			l.add(&LogEntry{Method: "POST", Path: "/big", Body: big})
			if got := read(); !strings.HasSuffix(got, "\n") {
				t.Fatalf("log ends in a torn line (%d bytes)", len(got))
			}
		}
		l.add(&LogEntry{Method: "GET", Path: "/b", Status: 404})
		if err := l.close(); err != nil {
			t.Fatal(err)
		}
		if got := read(); !strings.Contains(got, `"path":"/b"`) {
			t.Errorf("after close the log holds %q, want the last line", got)
		}
	})
	if logFlushEvery > 100*time.Millisecond {
		t.Errorf("logFlushEvery = %v, want at most 100ms", logFlushEvery)
	}
}
