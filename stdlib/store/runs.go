package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// BeginRun records the start of a run and returns its id.
func (s *Store) BeginRun(ctx context.Context, run runtime.RunInfo) (int64, error) {
	args := run.Args
	if args == nil {
		args = []string{}
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		return 0, fmt.Errorf("recording run: %w", err)
	}
	var id int64
	err = s.do(ctx, func(t *txn) error {
		res, err := t.tx.Exec(`INSERT INTO runs (pipeline, started, args) VALUES (?, ?, ?)`,
			run.Pipeline, nanos(run.Started), string(argsJSON))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recording run: %w", err)
	}
	return id, nil
}

// EndRun records that run runID ended now, with summary (JSON, may be empty).
func (s *Store) EndRun(ctx context.Context, runID int64, summary json.RawMessage) error {
	ended := time.Now()
	err := s.do(ctx, func(t *txn) error {
		res, err := t.tx.Exec(`UPDATE runs SET ended = ?, summary = ? WHERE id = ?`,
			nanos(ended), jsonText(summary), runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("no run %d", runID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording end of run %d: %w", runID, err)
	}
	return nil
}
