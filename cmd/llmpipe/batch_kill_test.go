package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// kill -9 while batch jobs run against a standalone simulator (one that
// outlives the run, as --sim does not), then the same command again: no
// item goes into two jobs, and every result arrives.
func TestBatchKillAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs llmpipe twice against a simulator")
	}
	const n = 300
	dir := t.TempDir()
	var items strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&items, "{\"id\":\"i%03d\",\"text\":\"Item %d is about Bo Ek, aged %d.\"}\n", i, i, 20+i%40)
	}
	files := map[string]string{
		"in.jsonl": items.String(),
		"main.llmp": `
source docs {
  jsonl = "in.jsonl"
  id    = item.id
}
schema P {
  name string
  age  int
}
step extract {
  from       = docs
  models     = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
  output     = P
  prompt     = "Extract: {{ item.text }}"
  batch_size = 100
}
sink out {
  from  = extract
  jsonl = "out.jsonl"
}
`}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := sim.DefaultConfig()
	cfg.BatchLatency = 1500 * time.Millisecond
	cfg.KeepLog = true
	srv, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	command := func() *exec.Cmd {
		cmd := exec.Command("llmpipe", "run", "main.llmp", "--batch", "--batch-poll", "50ms", "--quiet")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOGLE_GEMINI_BASE_URL="+srv.URL(), "GEMINI_API_KEY=x", "GOOGLE_API_KEY=")
		return cmd
	}
	creates := func() int {
		c := 0
		for _, e := range srv.Log() {
			if strings.HasSuffix(e.Path, ":batchGenerateContent") && e.Status == 200 {
				c++
			}
		}
		return c
	}

	first := command()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for creates() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if creates() < 3 {
		first.Process.Kill()
		first.Wait()
		t.Fatalf("the first run created %d jobs", creates())
	}
	time.Sleep(100 * time.Millisecond) // past the commit of the last job's name
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	createdBefore := creates()

	second := command()
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	// Each item's request went into exactly one job.
	jobsOf := map[string]map[string]bool{}
	for _, e := range srv.Log() {
		if e.Method == "BATCH" && e.Key != "" {
			if jobsOf[e.Key] == nil {
				jobsOf[e.Key] = map[string]bool{}
			}
			jobsOf[e.Key][e.Batch] = true
		}
	}
	for k, js := range jobsOf {
		if len(js) != 1 {
			t.Errorf("%s went into %d jobs: %v", k, len(js), js)
		}
	}
	if creates() != createdBefore {
		t.Errorf("the rerun created %d more jobs, though every item was in a live job", creates()-createdBefore)
	}
	f, err := os.Open(filepath.Join(dir, "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		seen[r.ID]++
	}
	if len(seen) != n {
		t.Errorf("%d items in the sink, want %d\n%s", len(seen), n, out)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s written %d times", id, c)
		}
	}
}
