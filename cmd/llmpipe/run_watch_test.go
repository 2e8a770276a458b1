package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// watchTestBuffer is a bytes.Buffer that several goroutines may write.
type watchTestBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *watchTestBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *watchTestBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const watchPipeline = `source s {
  lines = "in.txt"
}

step answer {
  from   = s
  models = ["gemini-2.5-flash-lite"]
  prompt = "%s {{ item.text }}"
}

sink out {
  from  = answer
  jsonl = "out.jsonl"
}

config {
  workers = 4
}
`

// TestRunWatchEditsPromptMidRun edits the prompt while `run --watch` runs
// and follows every item from its record to the request the simulator saw:
// records of plan 1 were asked with the new prompt, records of plan 0 with
// the old one, and each item was called and written exactly once.
func TestRunWatchEditsPromptMidRun(t *testing.T) {
	const items = 240
	dir := t.TempDir()
	job := filepath.Join(dir, "job.llmp")
	simLog := filepath.Join(dir, "sim.log")
	out := filepath.Join(dir, "out.jsonl")
	var lines strings.Builder
	for i := 1; i <= items; i++ {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	watchTestWrite(t, filepath.Join(dir, "in.txt"), lines.String())
	watchTestWrite(t, job, fmt.Sprintf(watchPipeline, "OLD-PROMPT"))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr watchTestBuffer
	code := make(chan int, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // on a failed wait, stop the run before waiting for it
	wg.Go(func() {
		code <- run(ctx, []string{"run", job, "--watch", "--quiet", "--sim", "--sim-latency", "40ms",
			"--sim-log", simLog, "--sim-log-bodies"}, nil, &stdout, &stderr)
	})

	watchTestPoll(t, "20 records written", func() bool { return watchTestCount(out) >= 20 })
	tmp := filepath.Join(dir, ".job.llmp.tmp")
	watchTestWrite(t, tmp, fmt.Sprintf(watchPipeline, "NEW-PROMPT"))
	if err := os.Rename(tmp, job); err != nil {
		t.Fatal(err)
	}
	watchTestPoll(t, "the reload", func() bool { return strings.Contains(stderr.String(), "reloaded: plan 1") })

	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("run exited %d; stderr:\n%s", c, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("run did not finish")
	}

	plans := map[string]int{}
	for _, line := range watchTestLines(t, out) {
		var rec struct {
			ID   string `json:"id"`
			Meta struct {
				Plan int `json:"plan"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		if _, dup := plans[rec.ID]; dup {
			t.Errorf("item %s written twice", rec.ID)
		}
		plans[rec.ID] = rec.Meta.Plan
	}
	if len(plans) != items {
		t.Errorf("%d items written, want %d", len(plans), items)
	}

	calls := map[string]int{}
	byPlan := map[int]int{}
	for _, line := range watchTestLines(t, simLog) {
		var e struct {
			Item string          `json:"item"`
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		calls[e.Item]++
		plan, ok := plans[e.Item]
		if !ok {
			t.Errorf("item %s was called but not written", e.Item)
			continue
		}
		byPlan[plan]++
		want, not := "OLD-PROMPT", "NEW-PROMPT"
		if plan == 1 {
			want, not = not, want
		}
		if body := string(e.Body); !strings.Contains(body, want) || strings.Contains(body, not) {
			t.Errorf("item %s has plan %d but its request was %s", e.Item, plan, body)
		}
	}
	for id, n := range calls {
		if n != 1 {
			t.Errorf("item %s called %d times", id, n)
		}
	}
	if len(calls) != items {
		t.Errorf("%d items called, want %d", len(calls), items)
	}
	if byPlan[0] == 0 || byPlan[1] == 0 {
		t.Errorf("items by plan = %v; want some under each of plans 0 and 1", byPlan)
	}
}

func watchTestWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func watchTestLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func watchTestCount(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// poll waits up to 20s for cond.
func watchTestPoll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
