package store

// The read-only query layer: what the web view (stdlib/web), `status` and
// `show` ask of a store. Every query here runs on the read pool, so it is
// safe beside a live run (WAL), and every item query is a range of an
// index (schema v6 and v7) or of the primary key: a page costs about the
// same over a thousand results as over a million.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// failedCheckExpr is the name of the check (its field) that failed in a
// failed result's last attempt. It must be written exactly as in the v6
// index results_by_check for SQLite to use the index.
const failedCheckExpr = `json_extract(failure, '$.errors[#-1].fields[0].field')`

// Outcomes an item can have at a step, as the items filter names them.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomePending = "pending" // attempted, no terminal result yet
)

// ItemQuery selects items for the web view's items table and its API.
// The zero value is every result of every step, first page.
type ItemQuery struct {
	Step        string // "": every step
	Fingerprint string // "": results under any fingerprint
	Outcome     string // "", OutcomeOK, OutcomeFailed or OutcomePending
	Rung        int    // final rung (0 = first model); < 0: any
	Check       string // name of the failed check; implies failed
	Prefix      string // item ids starting with this
	Page        int    // 0-based
	PageSize    int    // default 50, at most 500
}

// MatchCap bounds the count of matching items an ItemPage reports: counting
// is a scan of the matches, so past this the page says "more than".
const MatchCap = 10000

// ItemPage is one page of an item query.
type ItemPage struct {
	Items    []ItemRow `json:"items"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
	More     bool      `json:"more"` // a next page exists
	// Matches counts the items the query matches, up to MatchCap;
	// MatchesCapped says there are more than that.
	Matches       int  `json:"matches"`
	MatchesCapped bool `json:"matches_capped"`
}

// ItemRow is one item at one step in an item listing.
type ItemRow struct {
	Step     string    `json:"step"`
	Item     string    `json:"item"`
	Outcome  string    `json:"outcome"`
	Model    string    `json:"model,omitempty"`
	Rung     int       `json:"rung"`
	Attempts int       `json:"attempts"`
	Cost     float64   `json:"cost"`
	Class    string    `json:"class,omitempty"`   // failure class, when failed
	Check    string    `json:"check,omitempty"`   // the check that failed last
	Message  string    `json:"message,omitempty"` // why it failed
	At       time.Time `json:"at,omitzero"`
}

func (q *ItemQuery) normalize() error {
	if q.PageSize <= 0 {
		q.PageSize = 50
	}
	q.PageSize = min(q.PageSize, 500)
	q.Page = max(q.Page, 0)
	switch q.Outcome {
	case "", OutcomeOK, OutcomeFailed, OutcomePending:
	default:
		return fmt.Errorf("unknown outcome %q (want ok, failed or pending)", q.Outcome)
	}
	if q.Check != "" {
		if q.Outcome == OutcomeOK || q.Outcome == OutcomePending {
			return fmt.Errorf("a check filter selects failed items; outcome %q matches none", q.Outcome)
		}
		q.Outcome = OutcomeFailed
	}
	return nil
}

// Items returns one page of the items q selects, in step then item id
// order. It does not wait for a writable store's buffered writes.
func (s *Store) Items(ctx context.Context, q ItemQuery) (*ItemPage, error) {
	if err := q.normalize(); err != nil {
		return nil, err
	}
	from, group, order, cond, args := q.sql()
	page := &ItemPage{Page: q.Page, PageSize: q.PageSize, Items: []ItemRow{}}
	pageArgs := append(append([]any(nil), args...), q.PageSize+1, q.Page*q.PageSize)
	err := s.query(ctx, from+cond+group+order+` LIMIT ? OFFSET ?`, pageArgs, func(rows *sql.Rows) error {
		var (
			r                     ItemRow
			ok                    bool
			at                    sql.NullInt64
			class, msg, check, md sql.NullString
		)
		if err := rows.Scan(&r.Step, &r.Item, &ok, &md, &r.Rung, &r.Attempts, &r.Cost, &at, &class, &msg, &check); err != nil {
			return err
		}
		r.Model, r.At = md.String, fromNanos(at)
		switch {
		case q.Outcome == OutcomePending:
			r.Outcome = OutcomePending
		case ok:
			r.Outcome = OutcomeOK
		default:
			r.Outcome, r.Class, r.Message, r.Check = OutcomeFailed, class.String, msg.String, check.String
		}
		page.Items = append(page.Items, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing items: %w", corrupt(s.path, err))
	}
	if len(page.Items) > q.PageSize {
		page.Items, page.More = page.Items[:q.PageSize], true
	}
	// Count from the bare rows: selecting the page's columns would read
	// each match's table row, where the index alone can answer.
	if group == "" {
		from = `SELECT 1` + from[strings.Index(from, " FROM "):]
	}
	countQ := `SELECT count(*) FROM (` + from + cond + group + ` LIMIT ?)`
	err = s.r.QueryRowContext(ctx, countQ, append(args, MatchCap+1)...).Scan(&page.Matches)
	if err != nil {
		return nil, fmt.Errorf("counting items: %w", corrupt(s.path, err))
	}
	if page.Matches > MatchCap {
		page.Matches, page.MatchesCapped = MatchCap, true
	}
	return page, nil
}

// index names the index an item query must use. SQLite's planner, with no
// statistics (serve opens read-only and cannot ANALYZE), would otherwise
// walk the primary key for its order and read every result of the step to
// find a few failed ones; naming the index makes each filter a range.
// The indexes are partial (schema v7): they hold the failed results and
// the escalated ones, the minority; a filter for the majority (ok, rung 0)
// walks the primary key, where nearly every row matches.
func (q ItemQuery) index() string {
	if q.Step == "" {
		return ""
	}
	switch {
	case q.Check != "":
		return " INDEXED BY results_by_check"
	case q.Outcome == OutcomeFailed:
		return " INDEXED BY results_failed"
	case q.Rung > 0:
		return " INDEXED BY results_escalated"
	}
	return " NOT INDEXED"
}

// sql builds the query for q (normalized): a SELECT of ItemRow's columns,
// and its GROUP BY, ORDER BY and WHERE clauses with their arguments.
func (q ItemQuery) sql() (from, group, order, cond string, args []any) {
	var where []string
	if q.Outcome == OutcomePending {
		from, group, order, where, args = pendingQuery(q)
	} else {
		from = `SELECT step, item, ok, model, rung, attempts, cost, at, json_extract(failure, '$.class'),
			json_extract(failure, '$.message'), ` + failedCheckExpr + ` FROM results` + q.index()
		order = ` ORDER BY step, item`
		add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
		if q.Step != "" {
			add("step = ?", q.Step)
		}
		switch q.Outcome {
		case OutcomeOK:
			add("ok = 1")
		case OutcomeFailed:
			add("ok = 0")
		}
		if q.Rung >= 0 {
			add("rung = ?", q.Rung)
		}
		if q.Rung > 0 {
			add("rung > 0") // so the planner sees results_escalated's condition met
		}
		if q.Check != "" {
			add(failedCheckExpr+" = ?", q.Check)
		}
		if q.Fingerprint != "" {
			add("fp = "+fpOf, keyArg(q.Fingerprint))
		}
		where, args = prefixRange("item", q.Prefix, where, args)
	}
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	return from, group, order, cond, args
}

// pendingQuery lists items that have attempts at a step but no terminal
// result there: in flight, or left unfinished by a run that stopped. It
// walks the attempts journal by item (attempts_by_item), so unlike the
// result filters its cost grows with the journal when few items are
// pending.
func pendingQuery(q ItemQuery) (from, group, order string, where []string, args []any) {
	from = `SELECT a.step, a.item, 0, max(a.model), max(a.rung), count(*), sum(a.cost), max(a.at), NULL, NULL, NULL
		FROM attempts a`
	notDone := `NOT EXISTS (SELECT 1 FROM results r WHERE r.step = a.step AND r.item = a.item`
	if q.Fingerprint != "" {
		notDone += ` AND r.fp = ` + fpOf
		args = append(args, keyArg(q.Fingerprint))
	}
	where = append(where, notDone+`)`)
	if q.Step != "" {
		where, args = append(where, "a.step = ?"), append(args, q.Step)
	}
	if q.Rung >= 0 {
		where, args = append(where, "a.rung = ?"), append(args, q.Rung)
	}
	where, args = prefixRange("a.item", q.Prefix, where, args)
	return from, ` GROUP BY a.item, a.step`, ` ORDER BY a.item, a.step`, where, args
}

// prefixRange adds col >= prefix AND col < the next string after every
// string with that prefix, a range an index can seek (LIKE cannot: it is
// case-insensitive by default).
func prefixRange(col, prefix string, where []string, args []any) ([]string, []any) {
	if prefix == "" {
		return where, args
	}
	where, args = append(where, col+" >= ?"), append(args, prefix)
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) > 0 {
		b[len(b)-1]++
		where, args = append(where, col+" < ?"), append(args, string(b))
	}
	return where, args
}

// Runs returns the newest limit runs (all when limit <= 0), newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var runs []Run
	err := s.query(ctx, `SELECT id, pipeline, started, ended, args, summary FROM runs ORDER BY id DESC LIMIT ?`,
		[]any{limit}, func(rows *sql.Rows) error {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, *r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", corrupt(s.path, err))
	}
	return runs, nil
}

// Overview sums the store for the web view's overview page: results per
// step, fingerprint, outcome and final rung, and calls per model. It reads
// every result and attempt (a covering scan): callers refresh it sparingly.
type Overview struct {
	Results []ResultGroup `json:"results"`
	Models  []ModelCalls  `json:"models"`
}

// ResultGroup counts the results of one step under one fingerprint with
// one outcome at one final rung.
type ResultGroup struct {
	Step        string  `json:"step"`
	Fingerprint string  `json:"fingerprint"`
	OK          bool    `json:"ok"`
	Rung        int     `json:"rung"`
	Count       int     `json:"count"`
	Cost        float64 `json:"cost"`
}

// ModelCalls sums the attempts journal for one model: calls made, replies
// served by the response cache, failed attempts, tokens and cost.
type ModelCalls struct {
	Model          string  `json:"model"`
	Calls          int     `json:"calls"`
	CacheHits      int     `json:"cache_hits"`
	Errors         int     `json:"errors"` // calls that did not return a reply (transient, fatal)
	PromptTokens   int     `json:"prompt_tokens"`
	OutputTokens   int     `json:"output_tokens"`
	CachedTokens   int     `json:"cached_tokens"`
	ThinkingTokens int     `json:"thinking_tokens"`
	Cost           float64 `json:"cost"`
	// ByStatus counts the calls by how the call itself ended: "ok" (a
	// reply came back) or the error class (transient, fatal).
	ByStatus map[string]int `json:"by_status"`
}

// Overview returns the store's sums (see Overview).
func (s *Store) Overview(ctx context.Context) (*Overview, error) {
	o := &Overview{Results: []ResultGroup{}, Models: []ModelCalls{}}
	err := s.query(ctx, `SELECT step, `+fpHash+`, ok, rung, count(*), sum(cost) FROM results
		GROUP BY step, fp, ok, rung ORDER BY step, 2, ok DESC, rung`, nil,
		func(rows *sql.Rows) error {
			var g ResultGroup
			if err := rows.Scan(&g.Step, scanKey(&g.Fingerprint), &g.OK, &g.Rung, &g.Count, &g.Cost); err != nil {
				return err
			}
			o.Results = append(o.Results, g)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("reading overview: %w", corrupt(s.path, err))
	}
	byModel := map[string]int{} // index in o.Models
	err = s.query(ctx, `SELECT model, status, sum(1 - cached), sum(cached),
			sum(prompt_tokens * (1 - cached)), sum(output_tokens * (1 - cached)),
			sum(cached_tokens * (1 - cached)), sum(thinking_tokens * (1 - cached)), sum(cost)
		FROM attempts GROUP BY model, status ORDER BY model, status`, nil,
		func(rows *sql.Rows) error {
			var (
				c      ModelCalls
				status string
			)
			if err := rows.Scan(&c.Model, &status, &c.Calls, &c.CacheHits, &c.PromptTokens, &c.OutputTokens,
				&c.CachedTokens, &c.ThinkingTokens, &c.Cost); err != nil {
				return err
			}
			i, ok := byModel[c.Model]
			if !ok {
				i = len(o.Models)
				o.Models = append(o.Models, ModelCalls{Model: c.Model, ByStatus: map[string]int{}})
				byModel[c.Model] = i
			}
			m := &o.Models[i]
			m.Calls += c.Calls
			m.CacheHits += c.CacheHits
			m.ByStatus[status] += c.Calls
			if status != "ok" {
				m.Errors += c.Calls
			}
			m.PromptTokens += c.PromptTokens
			m.OutputTokens += c.OutputTokens
			m.CachedTokens += c.CachedTokens
			m.ThinkingTokens += c.ThinkingTokens
			m.Cost += c.Cost
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("reading overview: %w", corrupt(s.path, err))
	}
	return o, nil
}

// TimelinePoint sums the attempts journaled in one second by one model.
type TimelinePoint struct {
	Second int64   // unix seconds
	Model  string  //
	Calls  int     // calls made (response-cache answers excluded)
	Cost   float64 // dollars
}

// Timeline returns the per-second sums of the attempts of run runID whose
// journal id is above afterID, and the highest id it read, for the next
// call: a caller keeping a live chart reads only what is new, by rowid.
func (s *Store) Timeline(ctx context.Context, runID, afterID int64) ([]TimelinePoint, int64, error) {
	var pts []TimelinePoint
	last := afterID
	err := s.query(ctx, `SELECT at / 1000000000, model, sum(1 - cached), sum(cost), max(id) FROM attempts
		WHERE id > ? AND run_id = ? AND at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`, []any{afterID, runID},
		func(rows *sql.Rows) error {
			var (
				p  TimelinePoint
				id int64
			)
			if err := rows.Scan(&p.Second, &p.Model, &p.Calls, &p.Cost, &id); err != nil {
				return err
			}
			last = max(last, id)
			pts = append(pts, p)
			return nil
		})
	if err != nil {
		return nil, afterID, fmt.Errorf("reading timeline of run %d: %w", runID, corrupt(s.path, err))
	}
	return pts, last, nil
}

// LastAttempt returns when the newest journaled attempt was made (zero when
// there is none): a reader beside a run tells a live run from one that
// stopped without ending (a crash, kill -9) by it. It reads one row.
func (s *Store) LastAttempt(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT at FROM attempts ORDER BY id DESC LIMIT 1`).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("reading the last attempt: %w", corrupt(s.path, err))
	}
	return fromNanos(at), nil
}
