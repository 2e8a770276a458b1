package llmpipe_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// crashItems and crashWorkers size the crash test: enough items that a run
// takes a few seconds at 20ms a call, so kills land mid-run.
const (
	crashItems   = 3000
	crashWorkers = 32
)

const crashPipeline = `
source items {
  jsonl = "items.jsonl"
  id    = item.id
}

schema Person {
  name string "full name"
  age  int    "age in years"
}

# A quota far above what the test reaches: the pacer must not be what
# makes the run slow.
model lite {
  id  = "gemini-2.5-flash-lite"
  rpm = 1_000_000
  tpm = 1_000_000_000
}

step extract {
  from   = items
  models = [lite]
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  check age "must be plausible": output.age >= 0 && output.age <= 130
}

sink ok {
  from  = extract
  jsonl = "out/ok.jsonl"
}

sink failed {
  from  = extract.failed
  jsonl = "out/failed.jsonl"
}

config {
  workers = %d
}
`

// TestCrashResume is issue 4's crash test. A simulator runs as its own
// process so it outlives the clients; `llmpipe run` is started and killed
// with SIGKILL several times, then run to completion. Then:
//   - the ok sink holds every item exactly once and nothing else;
//   - no item was called successfully by a run that started after its
//     result was in the store (read after each kill);
//   - repeats are few: at most the calls in flight at the kills.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs a few thousand calls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	began := time.Now()
	bin := buildCLI(t)
	t.Logf("built the CLI in %v", time.Since(began).Round(time.Millisecond))
	dir := t.TempDir()
	job := filepath.Join(dir, "job.llmp")
	writeFile(t, job, fmt.Sprintf(crashPipeline, crashWorkers))
	ids := writePeople(t, filepath.Join(dir, "items.jsonl"), crashItems)
	p, err := llmpipe.Load(job)
	if err != nil {
		t.Fatal(err)
	}
	fp := p.Program.Steps[0].Fingerprint()
	dbPath := filepath.Join(dir, "s.db")
	simLog := filepath.Join(dir, "sim.jsonl")

	simURL, stopSim := startSimProcess(ctx, t, bin, simLog)
	env := append(os.Environ(), "GOOGLE_GEMINI_BASE_URL="+simURL, "GEMINI_API_KEY=x", "GOOGLE_API_KEY=")
	newRun := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.CommandContext(ctx, bin, "run", "job.llmp", "--store", dbPath, "--quiet")
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		return cmd, &stderr
	}

	// Each killed run is followed by a snapshot of what the store holds;
	// the next run starts after the snapshot, so a call it makes for an
	// item in the snapshot is a paid call the store should have saved.
	type snapshot struct {
		at   time.Time // taken after the kill, before the next start
		done map[string]bool
	}
	var snaps []snapshot
	// Kills land at random points of progress, not of time, so the test
	// kills mid-run on a fast machine and a loaded one alike: kill k waits
	// until the store holds a random count in the k-th slice of the items.
	// LLMPIPE_CRASH_SEED picks other kill points; the default makes five kills.
	seed := uint64(3)
	if v := os.Getenv("LLMPIPE_CRASH_SEED"); v != "" {
		if _, err := fmt.Sscan(v, &seed); err != nil {
			t.Fatalf("LLMPIPE_CRASH_SEED=%q: %v", v, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 4))
	kills := 3 + rng.IntN(3)
	slice := crashItems * 9 / 10 / kills
	for k := 0; k < kills; k++ {
		target := k*slice + 1 + rng.IntN(slice)
		cmd, stderr := newRun()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		start := time.Now()
	poll:
		for {
			select {
			case err := <-exited:
				t.Fatalf("run %d ended (%v) before %d results were stored\n%s", k+1, err, target, stderr)
			case <-time.After(50 * time.Millisecond):
				if done, err := stored(ctx, dbPath, fp); err == nil && len(done) >= target {
					break poll
				}
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		snaps = append(snaps, snapshot{at: time.Now(), done: committed(ctx, t, dbPath, fp)})
		t.Logf("kill %d after %v at ≥ %d results: %d stored", k+1, time.Since(start).Round(time.Millisecond), target, len(snaps[k].done))
	}
	last := snaps[len(snaps)-1].done
	if len(last) == 0 || len(last) == crashItems {
		t.Fatalf("%d of %d results stored before the final run: the kills did not land mid-run", len(last), crashItems)
	}

	cmd, stderr := newRun()
	began = time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr)
	}
	t.Logf("final run took %v", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(stderr.String(), fmt.Sprintf("resumed %s", commas(len(last)))) {
		t.Errorf("final run should report resuming the %d stored items:\n%s", len(last), stderr)
	}
	stopSim()

	// The sinks are rebuilt: every item exactly once.
	seen := map[string]int{}
	for _, id := range sinkIDs(t, filepath.Join(dir, "out", "ok.jsonl")) {
		seen[id]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("item %s is in the ok sink %d times, want once", id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("ok sink holds %q (%d times), which is no item", id, n)
	}
	if failed := sinkIDs(t, filepath.Join(dir, "out", "failed.jsonl")); len(failed) > 0 {
		t.Errorf("failed sink holds %d records, want none (e.g. %s)", len(failed), failed[0])
	}

	// The simulator's log: no successful call for an item whose result was
	// already stored when the calling run started.
	calls := successfulCalls(t, simLog)
	perItem := map[string]int{}
	recalled := 0
	for _, c := range calls {
		perItem[c.Item]++
		for i := len(snaps) - 1; i >= 0; i-- {
			if c.Time.After(snaps[i].at) {
				if snaps[i].done[c.Item] {
					if recalled++; recalled <= 10 {
						t.Errorf("item %s called at %s, after its result was stored (snapshot %d)", c.Item, c.Time.Format(time.StampMicro), i+1)
					}
				}
				break
			}
		}
	}
	if recalled > 10 {
		t.Errorf("… %d calls in all for items whose result was already stored", recalled)
	}
	repeated := 0
	for _, id := range ids {
		switch n := perItem[id]; {
		case n == 0:
			t.Errorf("item %s was never called", id)
		case n > 1:
			repeated++
		}
	}
	t.Logf("seed %d: %d kills, %d successful calls for %d items, %d items called more than once", seed, kills, len(calls), len(ids), repeated)
	if max := kills * crashWorkers; repeated > max {
		t.Errorf("%d items were called more than once; only calls in flight at a kill (≤ %d) may repeat", repeated, max)
	}
}

// buildCLI builds cmd/llmpipe into the test's temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "llmpipe")
	if goruntime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/llmpipe").CombinedOutput()
	if err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	return bin
}

// startSimProcess runs `llmpipe sim` as a child process and returns its URL
// and a function that stops it (SIGINT, so it flushes its log) and waits.
func startSimProcess(ctx context.Context, t *testing.T, bin, logPath string) (string, func()) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "sim", "--addr", "127.0.0.1:0", "--latency", "20ms", "--log", logPath, "--seed", "1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("simulator: %v\n%s", err, &stderr)
		}
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the simulator's address: %v\n%s", err, &stderr)
	}
	const prefix = "gemini simulator listening on "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("simulator printed %q, want %q…", line, prefix)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, prefix)), stop
}

// committed reads the ids of the results stored under fingerprint fp, as
// `llmpipe status` would: read-only, without the lock.
func committed(ctx context.Context, t *testing.T, path, fp string) map[string]bool {
	t.Helper()
	done, err := stored(ctx, path, fp)
	if err != nil {
		t.Fatalf("reading the store after a kill: %v", err)
	}
	return done
}

// stored is committed for polling during a run, when the store may not be
// there yet or not yet set up: those are errors to retry, not failures.
func stored(ctx context.Context, path, fp string) (map[string]bool, error) {
	done := map[string]bool{}
	if _, err := os.Stat(path); err != nil {
		return done, nil // killed before the store was created
	}
	s, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	err = s.Results(ctx, "extract", fp, func(r *runtime.Result) error {
		done[r.Item] = true
		return nil
	})
	return done, err
}

// successfulCalls returns the generate requests the simulator answered 200.
func successfulCalls(t *testing.T, path string) []sim.LogEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sim.LogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e sim.LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("simulator log line %q: %v", sc.Text(), err)
		}
		if e.Status == 200 && e.Item != "" && strings.Contains(e.Path, "generateContent") {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sinkIDs returns the "id" of every line of a JSONL sink, in file order; a
// missing file has none.
func sinkIDs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct{ ID string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("%s line %d is not a whole record (%v): %q", path, i+1, err, line)
		}
		ids = append(ids, rec.ID)
	}
	return ids
}

// writePeople writes n items whose text holds a name and an age (18–97),
// which the simulator copies into its replies, and returns their ids.
func writePeople(t *testing.T, path string, n int) []string {
	t.Helper()
	var b strings.Builder
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("p%05d", i)
		fmt.Fprintf(&b, `{"id":%q,"text":"Ada Lovelace the %s is %d years old."}`+"\n", ids[i], ordinal(i), personAge(i))
	}
	writeFile(t, path, b.String())
	return ids
}

// personAge is the age written into item i's text, spread over 18–97
// so that any run of items has young and old people.
func personAge(i int) int { return 18 + (i*37)%80 }

// ordinal spells i without digits, so the age is the only number in a
// prompt and the simulator's reply always carries it.
func ordinal(i int) string {
	const letters = "abcdefghij"
	s := []byte(fmt.Sprint(i))
	for j, c := range s {
		s[j] = letters[c-'0']
	}
	return string(s)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commas formats n as the summary does: 3,000.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
