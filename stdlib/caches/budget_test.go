package caches

import (
	"context"
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// fakeBudget is a runtime.CacheBudget with a limit.
type fakeBudget struct {
	mu                     sync.Mutex
	limit, reserved, spent runtime.Money
	settles                int
}

func (b *fakeBudget) Reserve(_ context.Context, worst runtime.Money) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent+b.reserved+worst > b.limit {
		return false
	}
	b.reserved += worst
	return true
}

func (b *fakeBudget) Settle(worst, actual runtime.Money) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= worst
	b.spent += actual
	b.settles++
}

var _ runtime.CacheBudgeted = (*Manager)(nil)

// A cache reserves its creation and storage from the run's budget before
// it is created, and settles to what it cost when deleted; one the budget
// cannot afford is sent inline (issue 17).
func TestCachesAreReservedInTheBudget(t *testing.T) {
	price := func(string) interp.Price { return interp.Price{InputPerM: 1, CachedPerM: 0.1, StoragePerMHour: 4} }

	poor := &fakeBudget{limit: runtime.Dollars(0.000001)}
	f := newFake()
	m, ev := newManager(t, f, Options{Price: price})
	m.SetBudget(poor)
	_, _, inline, err := m.Get(context.Background(), handbook, "lite")
	if err != nil || !inline {
		t.Fatalf("unaffordable cache: inline %v, err %v; want inline", inline, err)
	}
	if c, _, _ := f.counts(); c != 0 || ev.count(runtime.EventCacheFallback) != 1 {
		t.Errorf("%d creates, %d fallbacks: want none created and one fallback", c, ev.count(runtime.EventCacheFallback))
	}

	rich := &fakeBudget{limit: runtime.Dollars(1)}
	f = newFake()
	m, _ = newManager(t, f, Options{Price: price})
	m.SetBudget(rich)
	if _, _, inline, err := m.Get(context.Background(), handbook, "lite"); err != nil || inline {
		t.Fatalf("affordable cache: inline %v, err %v", inline, err)
	}
	if rich.reserved <= 0 {
		t.Fatal("nothing reserved for the cache")
	}
	m.Close(context.Background())
	c := m.Costs()
	if rich.reserved != 0 || rich.settles != 1 {
		t.Errorf("after Close: %s still reserved, %d settles; want 0, 1", rich.reserved, rich.settles)
	}
	if want := runtime.Dollars(c.Creation) + runtime.Dollars(c.Storage); rich.spent != want || want == 0 {
		t.Errorf("budget spent %s on the cache, its costs are %s", rich.spent, want)
	}
}
