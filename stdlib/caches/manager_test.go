package caches

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

var handbook = &interp.Cache{Name: "handbook", System: strings.Repeat("handbook text ", 100), TTL: time.Hour}

func newManager(t *testing.T, f *fakeProvider, opts Options) (*Manager, *events) {
	t.Helper()
	ev := &events{}
	opts.Provider = f
	m := New(opts)
	m.SetEmitter(ev.add)
	t.Cleanup(func() { m.Close(context.Background()) })
	return m, ev
}

func TestGetCreatesOncePerModel(t *testing.T) {
	f := newFake()
	f.delay = 20 * time.Millisecond // so the concurrent Gets overlap the creation
	m, ev := newManager(t, f, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	names := make([]string, 40)
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			model := "lite"
			if i%2 == 1 {
				model = "flash"
			}
			name, _, inline, err := m.Get(ctx, handbook, model)
			if err != nil || inline {
				t.Errorf("get %d: %q inline=%v err=%v", i, name, inline, err)
			}
			names[i] = name
		}()
	}
	wg.Wait()
	if c, _, _ := f.counts(); c != 2 {
		t.Fatalf("creates = %d, want 2 (one per model)", c)
	}
	for i := range names {
		if names[i] != names[i%2] {
			t.Errorf("get %d named %q, want %q", i, names[i], names[i%2])
		}
	}
	if names[0] == names[1] {
		t.Errorf("both models got cache %q", names[0])
	}
	if n := ev.count(runtime.EventCacheCreated); n != 2 {
		t.Errorf("cache_created events = %d, want 2", n)
	}
}

func TestTooSmallFallsBackInlineWithOneWarning(t *testing.T) {
	f := newFake()
	f.minSize = 1 << 20
	m, ev := newManager(t, f, Options{})
	for range 5 {
		name, id, inline, err := m.Get(context.Background(), handbook, "lite")
		if err != nil || !inline || name != "" || id == "" {
			t.Fatalf("get: name %q id %q inline %v err %v; want inline with an id", name, id, inline, err)
		}
	}
	if c, _, _ := f.counts(); c != 1 {
		t.Errorf("creates = %d, want 1 (the refusal is remembered)", c)
	}
	if n := ev.count(runtime.EventCacheFallback); n != 1 {
		t.Errorf("cache_fallback events = %d, want 1", n)
	}
	if c := m.Costs(); c.Caches != 0 || c.Inline != 1 || c.Creation != 0 {
		t.Errorf("costs = %+v, want no caches and one inline", c)
	}
}

func TestCreateErrorIsRetriedByALaterGet(t *testing.T) {
	f := newFake()
	f.failNext = &runtime.Error{Class: runtime.ClassTransient, Status: 503, Message: "overloaded"}
	m, _ := newManager(t, f, Options{})
	_, _, _, err := m.Get(context.Background(), handbook, "lite")
	var pe *runtime.Error
	if !errors.As(err, &pe) || pe.Status != 503 {
		t.Fatalf("first get: %v, want the 503", err)
	}
	if name, _, _, err := m.Get(context.Background(), handbook, "lite"); err != nil || name == "" {
		t.Fatalf("second get: %q %v, want a cache", name, err)
	}
	if c, _, _ := f.counts(); c != 2 {
		t.Errorf("creates = %d, want 2", c)
	}
}

func TestRenewalKeepsAUsedCacheAlive(t *testing.T) {
	// Fake time (synctest): with real time, a renewal goroutine kept off
	// the CPU past the short TTL on a loaded machine let the cache expire
	// (issue 19 item 20).
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		short := &interp.Cache{Name: "short", System: "x", TTL: 300 * time.Millisecond}
		m, ev := newManager(t, f, Options{})
		ctx := context.Background()
		deadline := time.Now().Add(1200 * time.Millisecond)
		var first string
		for time.Now().Before(deadline) {
			name, _, _, err := m.Get(ctx, short, "lite")
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = name
			}
			// Named after a wait longer than the third of the TTL at which Get
			// renews, as a request queued behind the pacer is: only the
			// renewal loop keeps it alive.
			time.Sleep(150 * time.Millisecond)
			if !f.alive(name) {
				t.Fatalf("cache %s expired while in use", name)
			}
		}
		c, u, _ := f.counts()
		if c != 1 {
			t.Errorf("creates = %d, want 1", c)
		}
		// 1.2 s of a 0.3 s TTL renewed at a third left: about every 0.2 s.
		if u < 3 || ev.count(runtime.EventCacheRenewed) != u {
			t.Errorf("renewals = %d (events %d), want at least 4, one event each", u, ev.count(runtime.EventCacheRenewed))
		}
	})
}

func TestTimeScaleRenewsOnTheProvidersClock(t *testing.T) {
	// Fake time (synctest): with real time, a renewal goroutine kept off
	// the CPU past the short TTL on a loaded machine let the cache expire
	// (issue 19 item 20).
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		// A nominal 6 s TTL that the provider counts as 0.3 s (scale 1/20), as
		// a simulator with a 3 s minute does.
		f2 := &scaledProvider{fakeProvider: f, scale: 0.05}
		c := &interp.Cache{Name: "scaled", System: "x", TTL: 6 * time.Second}
		m := New(Options{Provider: f2, TimeScale: 0.05})
		defer m.Close(context.Background())
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			name, _, _, err := m.Get(context.Background(), c, "lite")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond)
			if !f.alive(name) {
				t.Fatalf("cache %s expired while in use", name)
			}
		}
		if n, _, _ := f.counts(); n != 1 {
			t.Errorf("creates = %d, want 1", n)
		}
	})
}

// scaledProvider shrinks TTLs the way the simulator's compressed clock does.
type scaledProvider struct {
	*fakeProvider
	scale float64
}

func (s *scaledProvider) CreateCache(ctx context.Context, model, display, system string, ttl time.Duration) (string, int, error) {
	return s.fakeProvider.CreateCache(ctx, model, display, system, time.Duration(float64(ttl)*s.scale))
}

func (s *scaledProvider) UpdateCacheTTL(ctx context.Context, name string, ttl time.Duration) error {
	return s.fakeProvider.UpdateCacheTTL(ctx, name, time.Duration(float64(ttl)*s.scale))
}

func TestGoneRecreatesAndBillsBoth(t *testing.T) {
	f := newFake()
	st := newFakeStore()
	m, _ := newManager(t, f, Options{Store: st, Price: func(string) interp.Price { return interp.Price{InputPerM: 1} }})
	ctx := context.Background()
	a, _, _, _ := m.Get(ctx, handbook, "lite")
	f.vanish(a)
	m.Gone(ctx, handbook, "lite", a)
	b, _, _, err := m.Get(ctx, handbook, "lite")
	if err != nil || b == a || !f.alive(b) {
		t.Fatalf("after Gone: %q (was %q) err %v, want a new live cache", b, a, err)
	}
	// A stale Gone for the old name must not retire the new cache.
	m.Gone(ctx, handbook, "lite", a)
	if c, _, _, _ := m.Get(ctx, handbook, "lite"); c != b {
		t.Errorf("a stale Gone replaced %q with %q", b, c)
	}
	if recs, _ := st.Caches(ctx); len(recs) != 1 || recs[0].Name != b {
		t.Errorf("store records %v, want only %s", recs, b)
	}
	costs := m.Costs()
	want := 2 * float64(len(handbook.System)) / 1e6
	if costs.Caches != 2 || math.Abs(costs.Creation-want) > 1e-15 {
		t.Errorf("costs = %+v, want 2 caches, creation %v", costs, want)
	}
}

func TestCloseDeletesEverythingEvenWhileCreating(t *testing.T) {
	f := newFake()
	f.delay = 100 * time.Millisecond
	st := newFakeStore()
	m, ev := newManager(t, f, Options{Store: st})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, _, err := m.Get(ctx, handbook, "lite")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel() // the item gives up while the creation is in flight
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled get: %v", err)
	}
	if _, _, _, err := m.Get(context.Background(), handbook, "flash"); err != nil {
		t.Fatal(err)
	}
	m.Close(context.Background())
	if live := f.liveNames(); len(live) != 0 {
		t.Errorf("live after Close: %v", live)
	}
	if c, _, d := f.counts(); c != 2 || d != 2 {
		t.Errorf("creates %d deletes %d, want 2 and 2", c, d)
	}
	if recs, _ := st.Caches(context.Background()); len(recs) != 0 {
		t.Errorf("store still records %v", recs)
	}
	if n := ev.count(runtime.EventCacheDeleted); n != 2 {
		t.Errorf("cache_deleted events = %d, want 2", n)
	}
	if _, _, _, err := m.Get(context.Background(), handbook, "pro"); err == nil {
		t.Error("Get after Close succeeded; its cache would never be deleted")
	}
	if c, _, _ := f.counts(); c != 2 {
		t.Errorf("Get after Close created a cache")
	}
}

func TestSweepDeletesRecordedLeftovers(t *testing.T) {
	f := newFake()
	st := newFakeStore()
	ctx := context.Background()
	for _, model := range []string{"lite", "flash"} {
		name, tok, _ := f.CreateCache(ctx, model, "crashed", "x", time.Hour)
		st.SaveCache(ctx, runtime.CacheRecord{Name: name, Model: model, Tokens: tok})
	}
	n, err := Sweep(ctx, f, st)
	if err != nil || n != 2 {
		t.Fatalf("sweep = %d, %v; want 2", n, err)
	}
	if live := f.liveNames(); len(live) != 0 {
		t.Errorf("live after sweep: %v", live)
	}
	if recs, _ := st.Caches(ctx); len(recs) != 0 {
		t.Errorf("records after sweep: %v", recs)
	}
}

func TestStorageCostArithmetic(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFake()
	price := interp.Price{InputPerM: 0.30, CachedPerM: 0.03, StoragePerMHour: 1.00}
	m, _ := newManager(t, f, Options{Now: clock, TimeScale: 0.5, Price: func(string) interp.Price { return price }})
	if _, _, _, err := m.Get(context.Background(), handbook, "flash"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(30 * time.Minute) // real; nominal is an hour at scale 0.5
	mu.Unlock()
	m.Close(context.Background())
	tok := float64(len(handbook.System))
	c := m.Costs()
	if want := tok * 0.30 / 1e6; math.Abs(c.Creation-want) > 1e-15 {
		t.Errorf("creation = %v, want %v", c.Creation, want)
	}
	if want := tok * 1.00 / 1e6 * 1; math.Abs(c.Storage-want) > 1e-15 {
		t.Errorf("storage = %v, want %v (one nominal hour)", c.Storage, want)
	}
	if c.Tokens != len(handbook.System) {
		t.Errorf("tokens = %d", c.Tokens)
	}
}

func TestBreakEven(t *testing.T) {
	for _, tc := range []struct {
		name  string
		price interp.Price
		want  float64
		ok    bool
	}{
		{"flash-lite", interp.Price{InputPerM: 0.10, CachedPerM: 0.01, StoragePerMHour: 1}, 11.1, true},
		{"flash", interp.Price{InputPerM: 0.30, CachedPerM: 0.03, StoragePerMHour: 1}, 3.7, true},
		{"pro", interp.Price{InputPerM: 1.25, CachedPerM: 0.125, StoragePerMHour: 4.5}, 4.0, true},
		{"no storage price", interp.Price{InputPerM: 1, CachedPerM: 0.1}, 0, true},
		{"no discount", interp.Price{InputPerM: 1, CachedPerM: 1, StoragePerMHour: 1}, 0, false},
	} {
		if got, ok := BreakEven(tc.price); ok != tc.ok || math.Abs(got-tc.want) > 0.05 {
			t.Errorf("%s: BreakEven = %.2f, %v; want %.1f, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
