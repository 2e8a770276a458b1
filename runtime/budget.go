package runtime

import (
	"context"
	"errors"
	"sync"
)

// ErrBudgetExceeded stops a run whose next call could take the spend past
// config.budget. Nothing is lost: items not finished resume on the next run.
var ErrBudgetExceeded = errors.New("budget exceeded")

// budget is a hard spending limit. Every call reserves its worst case
// (estimated input + the maximum output at the model's prices) before it is
// made, and settles to its real cost after; so spent never passes the
// limit, whatever the calls in flight turn out to cost.
//
// A reservation that does not fit waits while other calls are in flight:
// they usually settle far below their worst case and free room. Only when
// nothing is reserved and it still does not fit is the budget exhausted.
type budget struct {
	mu        sync.Mutex
	limit     Money // 0: none
	spent     Money
	reserved  Money
	inFlight  int
	exhausted bool
	settled   chan struct{} // closed and replaced whenever a call settles
}

func (b *budget) reserve(ctx context.Context, worst Money) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.limit > 0 && b.exhausted {
			return false
		}
		// Reservations are kept even without a limit, so that a limit set
		// by a reload mid-run counts the calls already in flight.
		if b.limit <= 0 || b.spent+b.reserved+worst <= b.limit {
			b.reserved += worst
			b.inFlight++
			return true
		}
		if b.inFlight == 0 {
			b.exhausted = true
			return false
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
			return false
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
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
}

func (b *budget) isExhausted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit > 0 && b.exhausted
}

func (b *budget) setLimit(limit Money) {
	b.mu.Lock()
	b.limit = limit
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
	b.mu.Unlock()
}
