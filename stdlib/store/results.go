package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/llmpipe/llmpipe/runtime"
)

// Commit stores res durably: it returns once the transaction holding it has
// committed. Concurrent calls share transactions (see the package doc). If
// ctx ends first Commit returns ctx's error, but the result may still land.
// A later Commit for the same step, item and fingerprint replaces it.
func (s *Store) Commit(ctx context.Context, res *runtime.Result) error {
	if res == nil {
		return errors.New("committing result: nil result")
	}
	// Encode here, in the caller's goroutine, to keep the writer's share of
	// the work small.
	var failure any
	if res.Failure != nil {
		b, err := json.Marshal(res.Failure)
		if err != nil {
			return fmt.Errorf("committing result %s/%s: encoding failure: %w", res.Step, res.Item, err)
		}
		failure = string(b)
	}
	args := []any{res.Step, res.Item, nil, boolInt(res.OK), jsonText(res.Output), failure,
		res.Model, res.Rung, res.Attempts,
		res.Usage.PromptTokens, res.Usage.OutputTokens, res.Usage.CachedTokens, res.Usage.ThinkingTokens,
		res.Cost, res.Plan, runRef(res.RunID), nanos(res.At), keyArg(res.Input)}
	isNew := s.ops != nil && s.results.committing(res.Step, res.Item, res.Fingerprint)
	err := s.wait(ctx, &op{done: make(chan error, 1), groupable: true, apply: func(t *txn) error {
		fp, err := s.fpID(t, res.Fingerprint)
		if err != nil {
			return err
		}
		args[2] = fp
		if isNew {
			_, err := t.exec(s.ws.resultNew, args...)
			if !isConstraint(err) {
				return err
			}
			// Not new after all (a concurrent Commit of the same item):
			// the failed statement undid itself, the transaction goes on.
		}
		_, err = t.exec(s.ws.result, args...)
		return err
	}})
	if err != nil {
		return fmt.Errorf("committing result %s/%s: %w", res.Step, res.Item, err)
	}
	return nil
}

// fpID returns the id of fingerprint in the fingerprints table, adding it
// if need be (schema v10). Only the writer calls it, in a transaction; the
// ids it has seen are cached until a transaction fails (its new ids may
// have been rolled back).
func (s *Store) fpID(t *txn, fingerprint string) (int64, error) {
	if id, ok := s.fpIDs[fingerprint]; ok {
		return id, nil
	}
	k := keyArg(fingerprint)
	if _, err := t.exec(s.ws.fpAdd, k); err != nil {
		return 0, err
	}
	var id int64
	if err := t.stmt(s.ws.fpID).QueryRow(k).Scan(&id); err != nil {
		return 0, err
	}
	if s.fpIDs == nil {
		s.fpIDs = map[string]int64{}
	}
	s.fpIDs[fingerprint] = id
	return id, nil
}

// Lookup returns the terminal result of item at step under fingerprint, or
// nil when there is none.
func (s *Store) Lookup(ctx context.Context, step, item, fingerprint string) (*runtime.Result, error) {
	if s.ops != nil {
		may, err := s.results.mayHave(step, item, fingerprint, s.loadItems(ctx, step, fingerprint))
		if err != nil {
			return nil, fmt.Errorf("looking up %s/%s: %w", step, item, corrupt(s.path, err))
		}
		if !may {
			return nil, nil // certain: nothing else writes the file (filter.go)
		}
	}
	res, err := scanResult(s.rs.lookup.QueryRowContext(ctx, step, item, keyArg(fingerprint)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up %s/%s: %w", step, item, corrupt(s.path, err))
	}
	return res, nil
}

// Results calls fn with every terminal result of step under fingerprint, in
// item id order (byte order of the ids), stopping at fn's first error, which
// it returns. It is how sinks are rebuilt after a crash. fn may call other
// Store methods.
func (s *Store) Results(ctx context.Context, step, fingerprint string, fn func(*runtime.Result) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+resultCols+` FROM results
		WHERE step = ? AND fp = `+fpOf+` ORDER BY item`, step, keyArg(fingerprint))
	if err != nil {
		return fmt.Errorf("reading results of %s: %w", step, corrupt(s.path, err))
	}
	defer rows.Close()
	for rows.Next() {
		res, err := scanResult(rows)
		if err != nil {
			return fmt.Errorf("reading results of %s: %w", step, corrupt(s.path, err))
		}
		if err := fn(res); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading results of %s: %w", step, corrupt(s.path, err))
	}
	return nil
}

// Reset deletes every result, for `llmpipe run --fresh`: all items run
// again. The response cache stays, so identical requests are not paid for
// twice, and so does the attempts journal, which is history.
func (s *Store) Reset(ctx context.Context) error {
	err := s.do(ctx, func(t *txn) error {
		_, err := t.tx.Exec(`DELETE FROM results`)
		return err
	})
	s.results.reset() // even on error: the next Lookups read the file
	if err != nil {
		return fmt.Errorf("resetting store: %w", err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanResult(sc scanner) (*runtime.Result, error) {
	var (
		r               runtime.Result
		ok              bool
		output, failure sql.NullString
		runID, at       sql.NullInt64
	)
	err := sc.Scan(&r.Step, &r.Item, scanKey(&r.Fingerprint), &ok, &output, &failure, &r.Model, &r.Rung, &r.Attempts,
		&r.Usage.PromptTokens, &r.Usage.OutputTokens, &r.Usage.CachedTokens, &r.Usage.ThinkingTokens,
		&r.Cost, &r.Plan, &runID, &at, scanKey(&r.Input))
	if err != nil {
		return nil, err
	}
	r.OK = ok
	if output.Valid {
		r.Output = json.RawMessage(output.String)
	}
	if failure.Valid {
		r.Failure = new(runtime.Failure)
		if err := decodeFailure(failure.String, r.Failure); err != nil {
			return nil, fmt.Errorf("decoding failure of %s/%s: %w", r.Step, r.Item, err)
		}
	}
	r.RunID = runID.Int64
	r.At = fromNanos(at)
	return &r, nil
}
