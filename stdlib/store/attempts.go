package store

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/runtime"
)

// LogAttempt journals a. It does not wait for the write: the attempt goes
// into the next transaction (an attempt lost in a crash is made again
// anyway). It blocks only while the write queue is full.
func (s *Store) LogAttempt(ctx context.Context, a *runtime.Attempt) error {
	if a == nil {
		return fmt.Errorf("journaling attempt: nil attempt")
	}
	args := []any{runRef(a.RunID), a.Step, a.Item, a.Attempt, a.Rung, a.Model, a.RequestKey,
		a.Prompt, a.Reply, a.Status, a.Error,
		a.Usage.PromptTokens, a.Usage.OutputTokens, a.Usage.CachedTokens, a.Usage.ThinkingTokens,
		a.Cost, int64(a.Latency), boolInt(a.Cached), nanos(a.At), a.Job, a.System, a.Cache, a.Feedback}
	err := s.enqueue(ctx, &op{apply: func(t *txn) error {
		_, err := t.exec(s.ws.attempt, args...)
		return err
	}})
	if err != nil {
		return fmt.Errorf("journaling attempt %d of %s/%s: %w", a.Attempt, a.Step, a.Item, err)
	}
	return nil
}
