package llmpipe_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// TestMetaCostIsExact: every record's _meta.cost is dollars rounded to the
// nano-dollar, with no float noise (0.000013400000000000002), and the
// sinks' costs add up exactly to what the run spent on calls (issue 19
// item 18).
func TestMetaCostIsExact(t *testing.T) {
	dir := copyPipelines(t)
	p := load(t, filepath.Join(dir, "extract_people.llmp"))
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"*": 0.3} // retries: costs that add up over attempts
	opts := llmpipe.RunOptions{StorePath: filepath.Join(t.TempDir(), "store.db"), QuotaWindow: time.Second}
	sum, err, _ := simRun(t, p, cfg, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var total runtime.Money
	n := 0
	for _, name := range []string{"people.jsonl", "people.failed.jsonl"} {
		for _, cost := range metaCosts(t, filepath.Join(dir, "out", name)) {
			if _, frac, ok := strings.Cut(cost, "."); strings.ContainsAny(cost, "eE") || ok && len(frac) > 9 {
				t.Errorf("%s: _meta.cost %s is not whole nano-dollars", name, cost)
			}
			var m runtime.Money
			if err := m.UnmarshalJSON([]byte(cost)); err != nil {
				t.Fatal(err)
			}
			total += m
			n++
		}
	}
	if n == 0 || sum.Attempts <= int64(n) {
		t.Fatalf("%d records, %d attempts: want retries to add up", n, sum.Attempts)
	}
	if want := runtime.Dollars(sum.Cost - sum.CacheCost); total != want {
		t.Errorf("sinks' _meta.cost add up to %s, the run spent %s on calls", total, want)
	}

	// Run again on the same store: every record is delivered from the
	// store, marked so, with its original cost (issue 17).
	again, err, _ := simRun(t, load(t, filepath.Join(dir, "extract_people.llmp")), cfg, opts)
	if err != nil || again.Attempts != 0 || again.Resumed != int64(n) {
		t.Fatalf("second run: %v, %d attempts, %d resumed; want every record from the store", err, again.Attempts, again.Resumed)
	}
	var redelivered runtime.Money
	for _, name := range []string{"people.jsonl", "people.failed.jsonl"} {
		for _, line := range metaLines(t, filepath.Join(dir, "out", name)) {
			if !line.FromStore || line.Cached {
				t.Errorf("%s: a re-delivered record has from_store %v, cached %v", name, line.FromStore, line.Cached)
			}
			redelivered += line.Cost
		}
	}
	if redelivered != total {
		t.Errorf("re-delivered records cost %s, the first delivery %s", redelivered, total)
	}
}

type metaLine struct {
	Cost      runtime.Money `json:"cost"`
	Cached    bool          `json:"cached"`
	FromStore bool          `json:"from_store"`
}

// metaLines returns each record's _meta.
func metaLines(t *testing.T, path string) []metaLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []metaLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var rec struct {
			Meta metaLine `json:"_meta"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec.Meta)
	}
	return out
}

// copyPipelines copies pipelines/ to a temporary directory without out/,
// so a run writes neither out/ nor .llmpipe/ into the repository.
func copyPipelines(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("pipelines")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// metaCosts returns each record's _meta.cost as written, digit for digit.
func metaCosts(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Meta struct {
				Cost json.RawMessage `json:"cost"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, string(rec.Meta.Cost))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
