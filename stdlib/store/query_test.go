package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// seedItems commits n results at step "s": every third fails the check
// "age" (every sixth "name" instead), every fourth succeeded on rung 1.
// Items i%10 == 9 are left pending: attempted, with no result.
func seedItems(t testing.TB, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p", Started: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("item-%04d", i)
		if err := s.LogAttempt(ctx, &runtime.Attempt{RunID: runID, Step: "s", Item: id, Attempt: 1, Model: "m1",
			Prompt: "p", Status: "ok", Cost: runtime.Dollars(0.001), At: at(i % 50)}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			continue
		}
		r := &runtime.Result{RunID: runID, Step: "s", Item: id, Fingerprint: "fp", OK: true, Model: "m1", Attempts: 1, At: at(1)}
		if i%4 == 0 {
			r.Rung, r.Model = 1, "m2"
		}
		if i%3 == 0 {
			check := "age"
			if i%6 == 0 {
				check = "name"
			}
			r.OK = false
			r.Failure = &runtime.Failure{Class: runtime.ClassCheckFailed, Message: check + ": wrong", Errors: []runtime.AttemptError{
				{Attempt: 1, Class: runtime.ClassCheckFailed, Fields: []interp.FieldError{{Field: "other", Message: "x"}}},
				{Attempt: 2, Class: runtime.ClassCheckFailed, Fields: []interp.FieldError{{Field: check, Message: "wrong"}}},
			}}
		}
		if err := s.Commit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestItemsFilters(t *testing.T) {
	s, _ := openTemp(t, Options{})
	seedItems(t, s, 100)
	ctx := context.Background()
	want := func(pred func(i int) bool) []string {
		var ids []string
		for i := range 100 {
			if pred(i) {
				ids = append(ids, fmt.Sprintf("item-%04d", i))
			}
		}
		return ids
	}
	done := func(i int) bool { return i%10 != 9 }
	for _, tc := range []struct {
		name string
		q    ItemQuery
		want []string
	}{
		{"all", ItemQuery{Rung: -1}, want(done)},
		{"ok", ItemQuery{Step: "s", Outcome: "ok", Rung: -1}, want(func(i int) bool { return done(i) && i%3 != 0 })},
		{"failed", ItemQuery{Step: "s", Outcome: "failed", Rung: -1}, want(func(i int) bool { return done(i) && i%3 == 0 })},
		{"pending", ItemQuery{Step: "s", Outcome: "pending", Rung: -1, Fingerprint: "fp"}, want(func(i int) bool { return !done(i) })},
		{"rung 1", ItemQuery{Step: "s", Rung: 1}, want(func(i int) bool { return done(i) && i%4 == 0 })},
		{"check name", ItemQuery{Step: "s", Check: "name", Rung: -1}, want(func(i int) bool { return done(i) && i%6 == 0 })},
		{"check age", ItemQuery{Step: "s", Check: "age", Rung: -1}, want(func(i int) bool { return done(i) && i%3 == 0 && i%6 != 0 })},
		{"check other (not last)", ItemQuery{Step: "s", Check: "other", Rung: -1}, nil},
		{"prefix", ItemQuery{Step: "s", Prefix: "item-002", Rung: -1}, want(func(i int) bool { return done(i) && i >= 20 && i < 30 })},
		{"failed prefix rung", ItemQuery{Step: "s", Outcome: "failed", Prefix: "item-00", Rung: 1}, want(func(i int) bool { return done(i) && i%12 == 0 })},
		{"other fingerprint", ItemQuery{Step: "s", Fingerprint: "old", Rung: -1}, nil},
		{"other step", ItemQuery{Step: "t", Rung: -1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			q := tc.q
			q.PageSize = 7
			for page := 0; ; page++ {
				q.Page = page
				p, err := s.Items(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if p.Matches != len(tc.want) {
					t.Errorf("page %d: Matches = %d, want %d", page, p.Matches, len(tc.want))
				}
				for _, r := range p.Items {
					got = append(got, r.Item)
					if tc.q.Check != "" && r.Check != tc.q.Check {
						t.Errorf("%s: Check = %q, want %q", r.Item, r.Check, tc.q.Check)
					}
					if r.Outcome == OutcomeFailed && !strings.HasSuffix(r.Message, ": wrong") {
						t.Errorf("%s: Message = %q", r.Item, r.Message)
					}
				}
				if !p.More {
					break
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("items =\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
	if _, err := s.Items(ctx, ItemQuery{Outcome: "maybe"}); err == nil {
		t.Error("unknown outcome accepted")
	}
	if _, err := s.Items(ctx, ItemQuery{Outcome: "ok", Check: "age"}); err == nil {
		t.Error("check filter with outcome ok accepted")
	}
}

// TestItemsUseIndexes guards the claim that item pages never scan: every
// filter's plan searches an index.
func TestItemsUseIndexes(t *testing.T) {
	s, _ := openTemp(t, Options{})
	for _, tc := range []struct {
		q     ItemQuery
		index string
	}{
		{ItemQuery{Step: "s", Outcome: "failed", Rung: -1}, "results_failed"},
		{ItemQuery{Step: "s", Outcome: "ok", Rung: -1}, "PRIMARY KEY"},
		{ItemQuery{Step: "s", Rung: 2}, "results_escalated"},
		{ItemQuery{Step: "s", Rung: 0}, "PRIMARY KEY"},
		{ItemQuery{Step: "s", Check: "age", Rung: -1}, "results_by_check"},
		{ItemQuery{Step: "s", Prefix: "ab", Rung: -1}, "PRIMARY KEY"},
		{ItemQuery{Step: "s", Outcome: "failed", Prefix: "ab", Rung: 1, Fingerprint: "fp"}, "results_failed"},
		{ItemQuery{Step: "s", Outcome: "ok", Prefix: "ab", Rung: 1, Fingerprint: "fp"}, "results_escalated"},
	} {
		if err := tc.q.normalize(); err != nil {
			t.Fatal(err)
		}
		plan := explain(t, s, tc.q)
		if !strings.Contains(plan, tc.index) || strings.Contains(plan, "SCAN results") {
			t.Errorf("%+v: plan does not seek %s:\n%s", tc.q, tc.index, plan)
		}
	}
}

func explain(t *testing.T, s *Store, q ItemQuery) string {
	t.Helper()
	from, group, order, cond, args := q.sql()
	return queryPlan(t, s.r, from+cond+group+order+` LIMIT 51`, args...)
}

// queryPlan returns SQLite's plan for query, a line per step.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

func TestRunsAndOverview(t *testing.T) {
	s, _ := openTemp(t, Options{})
	seedItems(t, s, 30)
	ctx := context.Background()
	runs, err := s.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].Pipeline != "p" {
		t.Fatalf("Runs = %+v, %v", runs, err)
	}
	o, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range o.Results {
		total += g.Count
	}
	if total != 27 {
		t.Errorf("results counted %d, want 27: %+v", total, o.Results)
	}
	if len(o.Models) != 1 || o.Models[0].Calls != 30 {
		t.Errorf("models = %+v, want m1 with 30 calls", o.Models)
	}
	pts, last, err := s.Timeline(ctx, runs[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, p := range pts {
		calls += p.Calls
	}
	if calls != 30 || last == 0 {
		t.Errorf("timeline: %d calls, last id %d; want 30 calls", calls, last)
	}
	pts, last2, err := s.Timeline(ctx, runs[0].ID, last)
	if err != nil || len(pts) != 0 || last2 != last {
		t.Errorf("timeline after %d = %v, %d, %v; want nothing new", last, pts, last2, err)
	}
}
