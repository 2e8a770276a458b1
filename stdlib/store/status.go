package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Status is a store's summary for `llmpipe status`.
type Status struct {
	Path      string
	Steps     []StepStatus // by step name
	Runs      int
	LastRun   *Run // nil before the first run
	Responses int  // replies in the response cache
	Caches    int  // provider context caches still recorded
	// CacheSpent is what shared-context caches cost (creation and storage)
	// over every run that ended, from the runs' summaries: a run that
	// crashed did not get to count it. Steps' Spent leaves it out.
	CacheSpent float64
}

// StepStatus sums one step over the store.
type StepStatus struct {
	Step string
	// Fingerprints holds the results under each fingerprint the step has had,
	// newest first. The store does not know which one the pipeline has now;
	// the caller compares with the step's current fingerprint (Fingerprint).
	Fingerprints []FingerprintStatus
	// Calls, Usage and Spent come from the attempts journal: every call of
	// every run, whichever fingerprint it was for.
	Calls int
	Usage runtime.Usage
	Spent float64 // dollars
}

// FingerprintStatus counts the results of one step under one fingerprint.
type FingerprintStatus struct {
	Fingerprint string
	Done        int // succeeded
	Failed      int
	Usage       runtime.Usage
	Cost        float64   // dollars, as charged to these results
	Last        time.Time // newest result
}

// Fingerprint returns the counts under fp, zero when the step has none.
func (st StepStatus) Fingerprint(fp string) FingerprintStatus {
	for _, f := range st.Fingerprints {
		if f.Fingerprint == fp {
			return f
		}
	}
	return FingerprintStatus{Fingerprint: fp}
}

// Run is one run's journal entry.
type Run struct {
	ID       int64
	Pipeline string
	Started  time.Time
	Ended    time.Time // zero while running, or when the run crashed
	Args     []string
	Summary  json.RawMessage
}

// Status summarises the store. On a writable store it first waits for the
// buffered writes, so the figures include them.
func (s *Store) Status(ctx context.Context) (*Status, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	st := &Status{Path: s.path}
	if err := s.stepStatus(ctx, st); err != nil {
		return nil, fmt.Errorf("reading status: %w", corrupt(s.path, err))
	}
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM runs),
		(SELECT count(*) FROM responses) + (SELECT count(*) FROM attempts WHERE finish IS NOT NULL),
		(SELECT count(*) FROM caches)`).Scan(&st.Runs, &st.Responses, &st.Caches)
	if err != nil {
		return nil, fmt.Errorf("reading status: %w", corrupt(s.path, err))
	}
	if err := s.query(ctx, `SELECT summary FROM runs WHERE summary IS NOT NULL`, nil, func(rows *sql.Rows) error {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		var sum struct {
			CacheCost float64 `json:"cache_cost"`
		}
		if json.Unmarshal(b, &sum) == nil {
			st.CacheSpent += sum.CacheCost
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading status: %w", corrupt(s.path, err))
	}
	if st.Runs > 0 {
		row := s.r.QueryRowContext(ctx, `SELECT id, pipeline, started, ended, args, summary FROM runs ORDER BY id DESC LIMIT 1`)
		if st.LastRun, err = scanRun(row); err != nil {
			return nil, fmt.Errorf("reading status: %w", corrupt(s.path, err))
		}
	}
	return st, nil
}

func (s *Store) stepStatus(ctx context.Context, st *Status) error {
	byStep := map[string]*StepStatus{}
	step := func(name string) *StepStatus {
		p := byStep[name]
		if p == nil {
			p = &StepStatus{Step: name}
			byStep[name] = p
		}
		return p
	}
	err := s.query(ctx, `SELECT step, `+fpHash+`, sum(ok), sum(1 - ok),
			sum(prompt_tokens), sum(output_tokens), sum(cached_tokens), sum(thinking_tokens), sum(cost), max(at)
		FROM results GROUP BY step, fp ORDER BY step, max(at) DESC`, nil,
		func(rows *sql.Rows) error {
			var (
				name string
				f    FingerprintStatus
				last sql.NullInt64
			)
			u := &f.Usage
			if err := rows.Scan(&name, scanKey(&f.Fingerprint), &f.Done, &f.Failed,
				&u.PromptTokens, &u.OutputTokens, &u.CachedTokens, &u.ThinkingTokens, &f.Cost, &last); err != nil {
				return err
			}
			f.Last = fromNanos(last)
			p := step(name)
			p.Fingerprints = append(p.Fingerprints, f)
			return nil
		})
	if err != nil {
		return err
	}
	// Answers from the response cache are journaled too, but they are
	// not calls and cost nothing.
	err = s.query(ctx, `SELECT step, sum(1 - cached), sum(prompt_tokens * (1 - cached)),
			sum(output_tokens * (1 - cached)), sum(cached_tokens * (1 - cached)),
			sum(thinking_tokens * (1 - cached)), sum(cost)
		FROM attempts GROUP BY step`, nil,
		func(rows *sql.Rows) error {
			var name string
			var c StepStatus
			u := &c.Usage
			if err := rows.Scan(&name, &c.Calls, &u.PromptTokens, &u.OutputTokens, &u.CachedTokens,
				&u.ThinkingTokens, &c.Spent); err != nil {
				return err
			}
			p := step(name)
			p.Calls, p.Usage, p.Spent = c.Calls, c.Usage, c.Spent
			return nil
		})
	if err != nil {
		return err
	}
	for _, p := range byStep {
		st.Steps = append(st.Steps, *p)
	}
	slices.SortFunc(st.Steps, func(a, b StepStatus) int { return strings.Compare(a.Step, b.Step) })
	return nil
}

// query runs q on the read pool and calls each for every row.
func (s *Store) query(ctx context.Context, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func scanRun(sc scanner) (*Run, error) {
	var (
		r              Run
		started, ended sql.NullInt64
		args           string
		summary        sql.NullString
	)
	if err := sc.Scan(&r.ID, &r.Pipeline, &started, &ended, &args, &summary); err != nil {
		return nil, err
	}
	r.Started, r.Ended = fromNanos(started), fromNanos(ended)
	if err := json.Unmarshal([]byte(args), &r.Args); err != nil {
		return nil, fmt.Errorf("decoding args of run %d: %w", r.ID, err)
	}
	if summary.Valid {
		r.Summary = json.RawMessage(summary.String)
	}
	return &r, nil
}
