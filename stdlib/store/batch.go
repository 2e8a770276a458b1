package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

var _ runtime.BatchStore = (*Store)(nil)

// batchJobsMigration adds the batch jobs: one row per job (its display
// name is written before the create call, its service name right after),
// the items each job holds, and the job that answered an attempt.
const batchJobsMigration = `
CREATE TABLE batch_jobs (
	id           INTEGER PRIMARY KEY,
	run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
	step         TEXT NOT NULL,
	model        TEXT NOT NULL,
	display_name TEXT NOT NULL UNIQUE,
	name         TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL DEFAULT '',
	items        INTEGER NOT NULL DEFAULT 0,
	done         INTEGER NOT NULL DEFAULT 0,
	failed       INTEGER NOT NULL DEFAULT 0,
	tokens       INTEGER NOT NULL DEFAULT 0,
	created      INTEGER,
	ended        INTEGER
);
CREATE INDEX batch_jobs_live ON batch_jobs(ended);
CREATE TABLE batch_items (
	job_id      INTEGER NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
	key         TEXT NOT NULL,
	item        TEXT NOT NULL,
	request_key TEXT NOT NULL,
	PRIMARY KEY (job_id, key)
) WITHOUT ROWID;
ALTER TABLE attempts ADD COLUMN job TEXT NOT NULL DEFAULT '';
`

// AddBatchJob records a job and its items before the create call, and
// waits for the commit.
func (s *Store) AddBatchJob(ctx context.Context, j *runtime.BatchJob) error {
	err := s.do(ctx, func(t *txn) error {
		res, err := t.tx.Exec(`INSERT INTO batch_jobs (run_id, step, model, display_name, name, state, items, tokens, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			runRef(j.RunID), j.Step, j.Model, j.DisplayName, j.Name, string(j.State), len(j.Items), j.Tokens, nanos(j.Created))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		st, err := t.tx.Prepare(`INSERT INTO batch_items (job_id, key, item, request_key) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, it := range j.Items {
			if _, err := st.Exec(id, it.Key, it.Item, it.RequestKey); err != nil {
				return err
			}
		}
		j.ID = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording batch job %s: %w", j.DisplayName, err)
	}
	return nil
}

// SetBatchJobName records the service's name of a created job (and the
// state pending, unless one is known), committed before it returns.
func (s *Store) SetBatchJobName(ctx context.Context, id int64, name string) error {
	err := s.do(ctx, func(t *txn) error {
		_, err := t.tx.Exec(`UPDATE batch_jobs SET name = ?, state = CASE WHEN state = '' THEN 'pending' ELSE state END WHERE id = ?`, name, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording batch job name %s: %w", name, err)
	}
	return nil
}

// SetBatchJobState records a job's state and counts; a terminal state ends
// the job.
func (s *Store) SetBatchJobState(ctx context.Context, id int64, state runtime.BatchState, done, failed int) error {
	var ended any
	if state.Done() {
		ended = time.Now().UnixNano()
	}
	err := s.do(ctx, func(t *txn) error {
		_, err := t.tx.Exec(`UPDATE batch_jobs SET state = ?, done = ?, failed = ?, ended = COALESCE(ended, ?) WHERE id = ?`,
			string(state), done, failed, ended, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording batch job state: %w", err)
	}
	return nil
}

const batchJobCols = `id, run_id, step, model, display_name, name, state, done, failed, tokens, created, ended`

func scanBatchJob(sc scanner) (*runtime.BatchJob, error) {
	var (
		j              runtime.BatchJob
		runID          sql.NullInt64
		state          string
		created, ended sql.NullInt64
	)
	if err := sc.Scan(&j.ID, &runID, &j.Step, &j.Model, &j.DisplayName, &j.Name, &state, &j.Done, &j.Failed,
		&j.Tokens, &created, &ended); err != nil {
		return nil, err
	}
	j.RunID, j.State, j.Created, j.Ended = runID.Int64, runtime.BatchState(state), fromNanos(created), fromNanos(ended)
	return &j, nil
}

// LiveBatchJobs lists the jobs not ended, oldest first, with their items.
func (s *Store) LiveBatchJobs(ctx context.Context) ([]*runtime.BatchJob, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	var jobs []*runtime.BatchJob
	byID := map[int64]*runtime.BatchJob{}
	err := s.query(ctx, `SELECT `+batchJobCols+` FROM batch_jobs WHERE ended IS NULL ORDER BY id`, nil,
		func(rows *sql.Rows) error {
			j, err := scanBatchJob(rows)
			if err != nil {
				return err
			}
			jobs = append(jobs, j)
			byID[j.ID] = j
			return nil
		})
	if err == nil && len(jobs) > 0 {
		err = s.query(ctx, `SELECT i.job_id, i.key, i.item, i.request_key FROM batch_items i
			JOIN batch_jobs j ON j.id = i.job_id WHERE j.ended IS NULL ORDER BY i.job_id`, nil,
			func(rows *sql.Rows) error {
				var (
					id int64
					it runtime.BatchItem
				)
				if err := rows.Scan(&id, &it.Key, &it.Item, &it.RequestKey); err != nil {
					return err
				}
				if j := byID[id]; j != nil {
					j.Items = append(j.Items, it)
				}
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("listing live batch jobs: %w", corrupt(s.path, err))
	}
	return jobs, nil
}

// BatchJobs lists every job, newest first, with how many items each holds
// but not the items themselves (for status).
func (s *Store) BatchJobs(ctx context.Context) ([]JobRow, error) {
	var out []JobRow
	err := s.query(ctx, `SELECT `+batchJobCols+`, items FROM batch_jobs ORDER BY id DESC`, nil,
		func(rows *sql.Rows) error {
			var n int
			j, err := scanBatchJob(scanTail{rows, &n})
			if err != nil {
				return err
			}
			out = append(out, JobRow{BatchJob: *j, ItemCount: n})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("listing batch jobs: %w", corrupt(s.path, err))
	}
	return out, nil
}

// JobRow is one batch job for status: the job and how many items it holds.
type JobRow struct {
	runtime.BatchJob
	ItemCount int
}

// scanTail scans extra trailing columns after the ones a scan function reads.
type scanTail struct {
	sc    scanner
	extra *int
}

func (t scanTail) Scan(dest ...any) error { return t.sc.Scan(append(dest, t.extra)...) }
