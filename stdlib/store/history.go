package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// itemResultsQuery selects an item's results, by step then newest first.
// No index leads with item (schema v8): it seeks (step, item) in the
// primary key for each step, the steps found by one seek each.
const itemResultsQuery = `WITH RECURSIVE steps(name) AS (
		SELECT (SELECT min(step) FROM results)
		UNION ALL
		SELECT (SELECT min(step) FROM results WHERE step > name) FROM steps WHERE name IS NOT NULL
	)
	SELECT ` + resultCols + ` FROM steps JOIN results ON step = name AND item = ? ORDER BY step, at DESC`

// ItemHistory is everything the store knows about one item, for `llmpipe show`.
type ItemHistory struct {
	Item     string
	Attempts []runtime.Attempt // every step and run, in the order they were made
	Results  []runtime.Result  // terminal results, by step then newest first
}

// History returns the journal of item. On a writable store it first waits
// for the buffered writes, so the latest attempts are included.
func (s *Store) History(ctx context.Context, item string) (*ItemHistory, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	h := &ItemHistory{Item: item}
	err := s.query(ctx, `SELECT run_id, step, attempt, rung, model, request_key, prompt, reply, status, error,
			prompt_tokens, output_tokens, cached_tokens, thinking_tokens, cost, latency_ns, cached, at, job,
			system, cache, feedback
		FROM attempts WHERE item = ? ORDER BY id`, []any{item},
		func(rows *sql.Rows) error {
			var (
				a         = runtime.Attempt{Item: item}
				runID, at sql.NullInt64
				latency   int64
			)
			u := &a.Usage
			if err := rows.Scan(&runID, &a.Step, &a.Attempt, &a.Rung, &a.Model, scanKey(&a.RequestKey), &a.Prompt,
				&a.Reply, &a.Status, &a.Error, &u.PromptTokens, &u.OutputTokens, &u.CachedTokens,
				&u.ThinkingTokens, &a.Cost, &latency, &a.Cached, &at, &a.Job, &a.System, &a.Cache, &a.Feedback); err != nil {
				return err
			}
			a.RunID, a.Latency, a.At = runID.Int64, time.Duration(latency), fromNanos(at)
			h.Attempts = append(h.Attempts, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", item, corrupt(s.path, err))
	}
	err = s.query(ctx, itemResultsQuery, []any{item},
		func(rows *sql.Rows) error {
			r, err := scanResult(rows)
			if err != nil {
				return err
			}
			h.Results = append(h.Results, *r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", item, corrupt(s.path, err))
	}
	return h, nil
}
