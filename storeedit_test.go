package llmpipe_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

const editItems = 40

const editPipeline = `
source items {
  jsonl = "items.jsonl"
  id    = item.id
}

schema Person {
  name string "full name"
  age  int    "age in years"
}

step extract {
  from   = items
  models = ["gemini-2.5-flash-lite"]
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  check age "must be plausible": output.age >= 0 && output.age <= 130
  retry {
    attempts = 2
  }
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
  workers = 8
}
`

// editRun is one in-process run of a pipeline text against a fresh
// simulator that keeps its log, on a shared store.
type editRun struct {
	sum   *runtime.Summary
	calls map[string]int // successful generate calls per item
	total int
}

func runEdited(ctx context.Context, t *testing.T, dir, src string) editRun {
	t.Helper()
	p, err := llmpipe.LoadSource(filepath.Join(dir, "job.llmp"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.DefaultConfig()
	cfg.KeepLog = true
	r, err := p.Start(ctx, llmpipe.RunOptions{Sim: true, SimConfig: &cfg, StorePath: filepath.Join(dir, "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := editRun{sum: sum, calls: map[string]int{}}
	for _, e := range r.Sim.Log() {
		if e.Status == 200 && e.Item != "" && strings.Contains(e.Path, "generateContent") {
			out.calls[e.Item]++
			out.total++
		}
	}
	return out
}

// TestEditCheckRechecksStoredReplies: editing only a check re-checks the
// stored replies for free; only items that now fail are called again (the
// retry with feedback is a new request). Editing the prompt calls every
// item again. Running unchanged calls nothing.
func TestEditCheckRechecksStoredReplies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	ids := writePeople(t, filepath.Join(dir, "items.jsonl"), editItems)
	var old []string // items whose age fails the tightened check
	for i, id := range ids {
		if personAge(i) > 60 {
			old = append(old, id)
		}
	}
	if len(old) == 0 || len(old) == len(ids) {
		t.Fatalf("%d of %d items over 60: the test needs some of each", len(old), len(ids))
	}

	first := runEdited(ctx, t, dir, editPipeline)
	if first.total != editItems || len(first.calls) != editItems {
		t.Fatalf("first run: %d calls for %d items, want one per item (%d)", first.total, len(first.calls), editItems)
	}
	if first.sum.Succeeded != editItems {
		t.Fatalf("first run: %d succeeded, want %d", first.sum.Succeeded, editItems)
	}

	// Tighten the check only.
	tight := strings.Replace(editPipeline, "output.age <= 130", "output.age <= 60", 1)
	second := runEdited(ctx, t, dir, tight)
	called := sortedKeys(second.calls)
	if !slices.Equal(called, old) {
		t.Errorf("check edit: called %v\nwant only the items over 60: %v", called, old)
	}
	for id, n := range second.calls {
		if n != 1 { // attempt 1 from the cache, attempt 2 (with feedback) called
			t.Errorf("check edit: item %s called %d times, want once (the retry)", id, n)
		}
	}
	if got := second.sum.CacheHits; got != editItems {
		t.Errorf("check edit: %d cache hits, want every item's stored reply (%d)", got, editItems)
	}
	if int(second.sum.Failed) != len(old) || int(second.sum.Succeeded) != editItems-len(old) {
		t.Errorf("check edit: %d ok, %d failed; want %d, %d", second.sum.Succeeded, second.sum.Failed, editItems-len(old), len(old))
	}
	// The sinks follow the current check.
	if got := sorted(sinkIDs(t, filepath.Join(dir, "out", "failed.jsonl"))); !slices.Equal(got, old) {
		t.Errorf("check edit: failed sink holds %v, want %v", got, old)
	}
	if got := len(sinkIDs(t, filepath.Join(dir, "out", "ok.jsonl"))); got != editItems-len(old) {
		t.Errorf("check edit: ok sink holds %d records, want %d", got, editItems-len(old))
	}

	// Change the prompt (of the original pipeline): every item is a new request.
	reworded := strings.Replace(editPipeline, "Extract the person:", "Find the person described here:", 1)
	third := runEdited(ctx, t, dir, reworded)
	if third.total != editItems || len(third.calls) != editItems {
		t.Errorf("prompt edit: %d calls for %d items, want one per item (%d)", third.total, len(third.calls), editItems)
	}
	if third.sum.CacheHits != 0 {
		t.Errorf("prompt edit: %d cache hits, want none", third.sum.CacheHits)
	}

	// Unchanged: everything resumes, nothing is called.
	fourth := runEdited(ctx, t, dir, reworded)
	if fourth.total != 0 || fourth.sum.Resumed != editItems {
		t.Errorf("unchanged re-run: %d calls, %d resumed; want 0, %d", fourth.total, fourth.sum.Resumed, editItems)
	}
	if got := len(sinkIDs(t, filepath.Join(dir, "out", "ok.jsonl"))); got != editItems {
		t.Errorf("unchanged re-run: ok sink holds %d records, want %d", got, editItems)
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return sorted(keys)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
