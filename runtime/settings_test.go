package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
	"github.com/llmpipe/llmpipe/stdlib/funcs"
)

const limitsPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

model fast {
  id  = "gemini-2.5-flash"
  rpm = %s
}

step extract {
  from   = people
  models = fast
  prompt = "Extract: {{ item.text }}"
}
`

// TestLimitsReachThePacer: the runtime owns its quotas. New hands the
// pacer each model's limits from Options.Quotas, and Reload those of the
// edited program, with no call back into the caller.
func TestLimitsReachThePacer(t *testing.T) {
	files := func(rpm string) map[string]string {
		return map[string]string{"main.llmp": fmt.Sprintf(limitsPipeline, rpm), "people.jsonl": people(1)}
	}
	lim := quota.New(quota.Options{})
	opts := options(&fakeProvider{})
	opts.Pacer = runtime.QuotaPacer{Limiter: lim}
	var asked []*interp.Program
	opts.Quotas = func(prog *interp.Program) runtime.QuotaBook {
		asked = append(asked, prog)
		return tenfold{}
	}
	first := compile(t, files("7"))
	r, err := runtime.New(first, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := lim.Stats("gemini-2.5-flash").Limits; got.RPM != 70 || got.Concurrency != 3 {
		t.Errorf("after New the pacer has %+v, want rpm 70 (from Options.Quotas), concurrency 3", got)
	}
	// The edit, read from the same directory (a moved source is refused).
	f, d := lang.Parse(filepath.Join(first.Dir, "main.llmp"), []byte(fmt.Sprintf(limitsPipeline, "9")))
	edited, cd := interp.Check(f, &interp.Options{Funcs: funcs.All()})
	if d = append(d, cd...); d.HasErrors() {
		t.Fatal(d)
	}
	if _, err := r.Reload(edited); err != nil {
		t.Fatal(err)
	}
	if got := lim.Stats("gemini-2.5-flash").Limits; got.RPM != 90 {
		t.Errorf("after Reload the pacer has %+v, want rpm 90", got)
	}
	if len(asked) != 2 || asked[0] != first || asked[1] != edited {
		t.Errorf("Quotas was asked about %d programs, want the first then the edited one", len(asked))
	}
}

// tenfold is a quota book that gives ten times a block's rpm.
type tenfold struct{}

func (tenfold) Limits(m *interp.Model) quota.Limits {
	return quota.Limits{RPM: m.RPM * 10, Concurrency: 3}
}

// fakeCaches is a CacheManager that never caches and reports fixed costs.
type fakeCaches struct {
	emit  func(runtime.Event)
	costs runtime.CacheCosts
}

func (f *fakeCaches) Get(ctx context.Context, c *interp.Cache, model string) (string, string, bool, error) {
	f.emit(runtime.Event{Kind: runtime.EventCacheFallback, Cache: c.Name, Model: model})
	return "", "id", true, nil
}
func (f *fakeCaches) Gone(context.Context, *interp.Cache, string, string) {}
func (f *fakeCaches) Close(context.Context)                               {}
func (f *fakeCaches) Costs() runtime.CacheCosts                           { return f.costs }
func (f *fakeCaches) SetEmitter(emit func(runtime.Event))                 { f.emit = emit }

// TestRunnerOwnsCacheEventsAndSummary: the cache manager's events go out
// through the runner's emitter (to the run's observers, stamped), and the
// runner adds what the caches cost to its own Summary.
func TestRunnerOwnsCacheEventsAndSummary(t *testing.T) {
	prog := compile(t, map[string]string{
		"main.llmp": `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

cache handbook {
  system = "Be brief."
}

step extract {
  from   = people
  models = "gemini-2.5-flash"
  cache  = handbook
  prompt = "Extract: {{ item.text }}"
}
`, "people.jsonl": people(2)})
	opts := options(&fakeProvider{reply: func(*runtime.Request, int) (*runtime.Response, error) { return textReply("ok"), nil }})
	caches := &fakeCaches{costs: runtime.CacheCosts{Creation: 0.25, Storage: 0.5, Caches: 2, Inline: 1}}
	opts.Caches = caches
	var fallbacks atomic.Int64 // observers are called from every worker at once
	opts.Observers = []runtime.Observer{runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventCacheFallback {
			fallbacks.Add(1)
			if e.Time.IsZero() {
				t.Error("a cache event reached the observer without a time")
			}
		}
	})}
	sum, err := runtime.Run(context.Background(), prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fallbacks.Load() == 0 {
		t.Error("the cache manager's events did not reach the run's observers")
	}
	if sum.CacheCost != 0.75 || sum.CachesCreated != 2 || sum.CachesInline != 1 {
		t.Errorf("summary has cache cost %v, %d created, %d inline; want 0.75, 2, 1", sum.CacheCost, sum.CachesCreated, sum.CachesInline)
	}
	if sum.Cost < 0.75 {
		t.Errorf("summary cost %v does not include the caches' 0.75", sum.Cost)
	}
}
