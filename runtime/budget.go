package runtime

import (
	"context"
	"errors"
	"sync"
)

// ErrBudgetExceeded stops a run whose next call could take the spend past
// config.budget. Nothing is lost: items not finished resume on the next run.
var ErrBudgetExceeded = errors.New("budget exceeded")

// errBudgetStop ends one item that the budget cannot afford at its next
// rung: it is left for the next run while cheaper items go on.
var errBudgetStop = errors.New("stopped by the budget")

// budget is a hard spending limit that is spent. Every call reserves its
// worst case before it is made: its estimated input and its output cap
// (the request's maxOutputTokens, thinking included, which the API
// enforces; see outcap.go) at the model's prices. It settles to its real
// cost after, so spent never passes the limit, whatever the calls in
// flight turn out to cost. Caches reserve their creation and storage the
// same way (CacheBudget).
//
// A reservation that would fit once calls in flight settle waits for
// them: they usually settle below their worst case and free room. One
// that cannot fit even then (spent + worst > limit: spent only grows) is
// refused: the item stops, left for the next run, and cheaper items go
// on. The run ends when its cheapest call cannot be afforded (exhaust).
type budget struct {
	mu        sync.Mutex
	limit     Money // 0: none
	spent     Money
	reserved  Money
	inFlight  int
	exhausted bool          // nothing affordable is left: the run ends
	stopped   int64         // items stopped by the budget
	settled   chan struct{} // closed and replaced whenever a call settles
}

// reservation is how a reserve ended.
type reservation uint8

const (
	reserved     reservation = iota // the worst case is held: make the call
	unaffordable                    // it can never fit in what is left
	gaveUp                          // ctx ended, or the budget is exhausted
)

func (b *budget) reserve(ctx context.Context, worst Money) reservation {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.limit > 0 && b.exhausted {
			return gaveUp
		}
		// Reservations are kept even without a limit, so that a limit set
		// by a reload mid-run counts the calls already in flight.
		if b.limit <= 0 || b.spent+b.reserved+worst <= b.limit {
			b.reserved += worst
			b.inFlight++
			return reserved
		}
		if b.spent+worst > b.limit || b.inFlight == 0 {
			return unaffordable
		}
		if b.settled == nil {
			b.settled = make(chan struct{})
		}
		ch := b.settled
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			b.mu.Lock()
			return gaveUp
		}
		b.mu.Lock()
	}
}

// reserveMany reserves, as one reservation, the longest prefix of costs
// that fits (a batch job cut to what is left), waiting like reserve while
// other reservations may free room. It returns how many fit and their sum;
// 0 when the budget is exhausted or ctx ended.
func (b *budget) reserveMany(ctx context.Context, costs []Money) (int, Money) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.limit > 0 && b.exhausted {
			return 0, 0
		}
		n, sum := 0, Money(0)
		for _, c := range costs {
			if b.limit > 0 && b.spent+b.reserved+sum+c > b.limit {
				break
			}
			n, sum = n+1, sum+c
		}
		if n > 0 {
			b.reserved += sum
			b.inFlight++
			return n, sum
		}
		if b.inFlight == 0 {
			b.exhausted = true
			return 0, 0
		}
		if b.settled == nil {
			b.settled = make(chan struct{})
		}
		ch := b.settled
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			b.mu.Lock()
			return 0, 0
		}
		b.mu.Lock()
	}
}

// add counts spending nothing reserved (a job of an earlier run).
func (b *budget) add(actual Money) {
	b.mu.Lock()
	b.spent += actual
	b.mu.Unlock()
}

func (b *budget) settle(worst, actual Money) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= worst
	b.spent += actual
	b.inFlight--
	b.wakeLocked()
}

// stop counts an item the budget could not afford; with exhaust it also
// ends the run (nothing cheaper is left).
func (b *budget) stop(exhaust bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped++
	if exhaust {
		b.exhausted = true
		b.wakeLocked()
	}
}

// hit reports whether the budget stopped anything: an item or the run.
func (b *budget) hit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit > 0 && (b.exhausted || b.stopped > 0)
}

func (b *budget) setLimit(limit Money) {
	b.mu.Lock()
	b.limit = limit
	b.wakeLocked()
	b.mu.Unlock()
}

func (b *budget) wakeLocked() {
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
}

// CacheBudget is the run's budget as a context-cache manager sees it: a
// cache reserves its creation and storage for its TTL before it is
// created, and settles to what it cost once deleted. A Caches
// implementation that also implements CacheBudgeted gets one.
type CacheBudget interface {
	// Reserve holds worst; false when the budget cannot afford it (the
	// content then goes inline).
	Reserve(ctx context.Context, worst Money) bool
	// Settle releases worst and counts actual as spent.
	Settle(worst, actual Money)
}

// CacheBudgeted is implemented by cache managers that reserve through
// the run's budget.
type CacheBudgeted interface {
	SetBudget(CacheBudget)
}

// cacheBudget adapts budget to CacheBudget.
type cacheBudget struct{ b *budget }

// Reserve holds worst without waiting and without counting as a call in
// flight: a cache lives as long as the run, and a call must not wait for
// it to be deleted.
func (c cacheBudget) Reserve(_ context.Context, worst Money) bool {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && (b.exhausted || b.spent+b.reserved+worst > b.limit) {
		return false
	}
	b.reserved += worst
	return true
}

func (c cacheBudget) Settle(worst, actual Money) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= worst
	b.spent += actual
	b.wakeLocked()
}
