package runtime

import (
	"errors"
	"sync"
)

// ErrBudgetExceeded stops a run whose next call could take the spend past
// config.budget. Nothing is lost: items not finished resume on the next run.
var ErrBudgetExceeded = errors.New("budget exceeded")

// budget is a hard spending limit. Every call reserves its worst case
// (estimated input + the maximum output at the model's prices) before it is
// made, and settles to its real cost after; a call whose reservation does
// not fit is not made. So spent never passes the limit, whatever the calls
// in flight turn out to cost.
type budget struct {
	mu        sync.Mutex
	limit     float64 // 0: none
	spent     float64
	reserved  float64
	exhausted bool
}

func (b *budget) reserve(worst float64) bool {
	if b == nil || b.limit <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exhausted || b.spent+b.reserved+worst > b.limit {
		b.exhausted = true
		return false
	}
	b.reserved += worst
	return true
}

func (b *budget) settle(worst, actual float64) {
	if b == nil || b.limit <= 0 {
		return
	}
	b.mu.Lock()
	b.reserved -= worst
	b.spent += actual
	b.mu.Unlock()
}

func (b *budget) isExhausted() bool {
	if b == nil || b.limit <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exhausted
}

func (b *budget) setLimit(limit float64) {
	b.mu.Lock()
	b.limit = limit
	b.mu.Unlock()
}
