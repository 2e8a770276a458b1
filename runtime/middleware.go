package runtime

import "context"

// Middleware wraps every item at every step. Methods are called
// concurrently for different items.
type Middleware interface {
	// Before runs before the item's first attempt at the step. Returning
	// skip=true leaves the item out of this step (and the steps after it).
	Before(ctx context.Context, step string, rec *Record) (skip bool, err error)
	// After runs once the item is terminal at the step, before it is stored
	// and written; it may change rec (e.g. rec.Outputs[step] or rec.Failed).
	After(ctx context.Context, step string, rec *Record) error
	// OnRetry runs after each failed attempt that will be retried.
	OnRetry(ctx context.Context, step string, rec *Record, failed AttemptError)
}

// MiddlewareFuncs adapts optional functions to Middleware; nil fields do nothing.
type MiddlewareFuncs struct {
	BeforeFunc  func(ctx context.Context, step string, rec *Record) (bool, error)
	AfterFunc   func(ctx context.Context, step string, rec *Record) error
	OnRetryFunc func(ctx context.Context, step string, rec *Record, failed AttemptError)
}

// Before calls BeforeFunc if set.
func (m MiddlewareFuncs) Before(ctx context.Context, step string, rec *Record) (bool, error) {
	if m.BeforeFunc == nil {
		return false, nil
	}
	return m.BeforeFunc(ctx, step, rec)
}

// After calls AfterFunc if set.
func (m MiddlewareFuncs) After(ctx context.Context, step string, rec *Record) error {
	if m.AfterFunc == nil {
		return nil
	}
	return m.AfterFunc(ctx, step, rec)
}

// OnRetry calls OnRetryFunc if set.
func (m MiddlewareFuncs) OnRetry(ctx context.Context, step string, rec *Record, failed AttemptError) {
	if m.OnRetryFunc != nil {
		m.OnRetryFunc(ctx, step, rec, failed)
	}
}
