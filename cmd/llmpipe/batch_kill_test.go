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
	dir := writeBatchPipeline(t, n)
	cfg := sim.DefaultConfig()
	cfg.BatchLatency = 1500 * time.Millisecond
	cfg.KeepLog = true
	srv, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	command, creates := batchCommands(dir, srv)

	first := command("run", "main.llmp", "--batch", "--batch-poll", "50ms", "--quiet")
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

	second := command("run", "main.llmp", "--batch", "--batch-poll", "50ms", "--quiet")
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	checkOneJobEach(t, srv)
	if creates() != createdBefore {
		t.Errorf("the rerun created %d more jobs, though every item was in a live job", creates()-createdBefore)
	}
	checkSink(t, dir, n, out)
	// show names the job that answered an attempt.
	show, err := command("show", "main.llmp", "i007").CombinedOutput()
	if err != nil || !strings.Contains(string(show), "batch job batches/") {
		t.Errorf("show (%v):\n%s", err, show)
	}
}

func writeBatchPipeline(t *testing.T, n int) string {
	t.Helper()
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
	return dir
}

// batchCommands makes llmpipe commands pointed at srv, and counts the
// jobs srv has created.
func batchCommands(dir string, srv *sim.Server) (func(args ...string) *exec.Cmd, func() int) {
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command("llmpipe", args...)
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
	return command, creates
}

// checkOneJobEach fails if any item's request went into two jobs.
func checkOneJobEach(t *testing.T, srv *sim.Server) {
	t.Helper()
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
}

// checkSink fails unless each of the n items is in out.jsonl once.
func checkSink(t *testing.T, dir string, n int, out []byte) {
	t.Helper()
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

// Ctrl-C leaves jobs running and says how to resume; llmpipe cancel then
// cancels the live jobs on the service and ends them in the store; status
// lists them.
func TestBatchInterruptThenCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs llmpipe against a simulator")
	}
	dir := writeBatchPipeline(t, 150)
	cfg := sim.DefaultConfig()
	cfg.BatchLatency = time.Hour // the jobs outlive the run
	cfg.KeepLog = true
	srv, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	command, creates := batchCommands(dir, srv)

	run := command("run", "main.llmp", "--batch", "--batch-poll", "50ms", "--quiet")
	var stderr strings.Builder
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for creates() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := run.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = run.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "2 batch jobs are still running") || !strings.Contains(stderr.String(), "llmpipe cancel") {
		t.Errorf("the interrupt message does not say how to resume:\n%s", stderr.String())
	}

	out, err := command("status", "main.llmp").CombinedOutput()
	if err != nil || strings.Count(string(out), "(live)") != 2 {
		t.Fatalf("status (%v):\n%s", err, out)
	}
	out, err = command("cancel", "main.llmp").CombinedOutput()
	if err != nil || strings.Count(string(out), "cancelled batches/") != 2 {
		t.Fatalf("cancel (%v):\n%s", err, out)
	}
	cancels := 0
	for _, e := range srv.Log() {
		if strings.HasSuffix(e.Path, ":cancel") && e.Status == 200 {
			cancels++
		}
	}
	if cancels != 2 {
		t.Errorf("%d cancel calls reached the service, want 2", cancels)
	}
	out, err = command("status", "main.llmp").CombinedOutput()
	if err != nil || strings.Count(string(out), "cancelled") != 2 || strings.Contains(string(out), "(live)") {
		t.Fatalf("status after cancel (%v):\n%s", err, out)
	}
	out, _ = command("cancel", "main.llmp").CombinedOutput()
	if !strings.Contains(string(out), "no live batch jobs") {
		t.Errorf("second cancel:\n%s", out)
	}
}
