package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// Hashes as the runtime makes them: lower-case hex.
var (
	hexFP    = strings.Repeat("0123456789abcdef", 4) // a step fingerprint, 64 digits
	hexInput = strings.Repeat("fedcba9876543210", 2) // an input hash, 32 digits
	hexKey1  = strings.Repeat("a1", 32)              // request keys
	hexKey2  = strings.Repeat("b2", 32)
)

// TestResumeV7Store builds a store as the version before v8 wrote it (its
// DDL, hashes as hex text, replies in responses as JSON), opens it with
// this one, and checks that it resumes: results found, cached replies
// served, show's history and the web view's queries answered, and new
// writes beside the old rows.
func TestResumeV7Store(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v7.db")
	db, err := sql.Open("sqlite", dsn(path, "_pragma=journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, 7); err != nil {
		t.Fatal(err)
	}
	failure := `{"class":"check_failed","message":"len(a) > 3","errors":[{"attempt":1,"model":"m","class":"check_failed","message":"len(a) > 3","fields":[{"field":"a","message":"too short"}],"at":"2026-01-02T03:04:05Z"}],"last_reply":"{}","line":0}`
	for _, q := range []string{
		`INSERT INTO runs (id, pipeline, started, args) VALUES (1, 'p.llmp', 1, '[]')`,
		`INSERT INTO results (step, item, fingerprint, ok, output, model, attempts, run_id, at, input)
			VALUES ('s', 'a', '` + hexFP + `', 1, '{"x":1}', 'm', 1, 1, 10, '` + hexInput + `')`,
		`INSERT INTO results (step, item, fingerprint, ok, failure, model, attempts, run_id, at, input)
			VALUES ('s', 'b', '` + hexFP + `', 0, '` + failure + `', 'm', 2, 1, 11, '` + hexInput + `')`,
		`INSERT INTO results (step, item, fingerprint, ok, output, model, attempts, at)
			VALUES ('t', 'a', 'fp-not-hex', 1, '{"y":2}', 'm', 1, 12)`,
		`INSERT INTO attempts (run_id, step, item, attempt, rung, model, request_key, prompt, reply, status, at)
			VALUES (1, 's', 'a', 1, 0, 'm', '` + hexKey1 + `', 'prompt a', 'reply a', 'ok', 5)`,
		`INSERT INTO responses (key, response, created) VALUES ('` + hexKey1 + `',
			'{"text":"reply a","usage":{"prompt_tokens":3,"output_tokens":4,"cached_tokens":0,"thinking_tokens":0},"finish_reason":"STOP","model_version":"m-001"}', 1)`,
		`INSERT INTO responses (key, response, created) VALUES ('odd key', '{"text":"odd","usage":{}}', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := userVersion(ctx, s.r); v != schemaVersion {
		t.Fatalf("version %d after open, want %d", v, schemaVersion)
	}

	// Resume: the results are found under their fingerprints.
	r, err := s.Lookup(ctx, "s", "a", hexFP)
	if err != nil || r == nil || r.Fingerprint != hexFP || r.Input != hexInput || string(r.Output) != `{"x":1}` {
		t.Fatalf("Lookup(s, a) = %+v, %v", r, err)
	}
	if r, err := s.Lookup(ctx, "t", "a", "fp-not-hex"); err != nil || r == nil || r.Fingerprint != "fp-not-hex" {
		t.Errorf("Lookup(t, a) = %+v, %v", r, err)
	}
	if r, err := s.Lookup(ctx, "s", "c", hexFP); err != nil || r != nil {
		t.Errorf("Lookup(s, c) = %+v, %v; want none", r, err)
	}
	var items []string
	if err := s.Results(ctx, "s", hexFP, func(r *runtime.Result) error { items = append(items, r.Item); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(items, []string{"a", "b"}) {
		t.Errorf("Results = %v", items)
	}

	// The cached replies are served.
	want := &runtime.Response{Text: "reply a", Usage: runtime.Usage{PromptTokens: 3, OutputTokens: 4}, FinishReason: "STOP", ModelVersion: "m-001"}
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("CachedResponse(key1) = %+v, %v", got, err)
	}
	if got, err := s.CachedResponse(ctx, "odd key"); err != nil || got == nil || got.Text != "odd" {
		t.Errorf("CachedResponse(odd key) = %+v, %v", got, err)
	}

	// show's history and the web view's queries.
	h, err := s.History(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Attempts) != 1 || h.Attempts[0].RequestKey != hexKey1 || h.Attempts[0].Reply != "reply a" || len(h.Results) != 2 {
		t.Errorf("History(a) = %+v", h)
	}
	page, err := s.Items(ctx, ItemQuery{Step: "s", Fingerprint: hexFP, Check: "a", Rung: -1})
	if err != nil || len(page.Items) != 1 || page.Items[0].Item != "b" {
		t.Errorf("Items(failed check a) = %+v, %v", page, err)
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Responses != 2 || len(st.Steps) != 2 || st.Steps[0].Fingerprint(hexFP).Done != 1 || st.Steps[0].Fingerprint(hexFP).Failed != 1 {
		t.Errorf("Status = %+v", st)
	}
	ov, err := s.Overview(ctx)
	if err != nil || len(ov.Results) != 3 || ov.Results[0].Fingerprint != hexFP {
		t.Errorf("Overview = %+v, %v", ov, err)
	}

	// New writes beside the old rows.
	if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "c", Fingerprint: hexFP, Input: hexInput, OK: true, Output: json.RawMessage(`{"x":3}`)}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Lookup(ctx, "s", "c", hexFP); err != nil || r == nil || r.Input != hexInput {
		t.Errorf("Lookup(s, c) after commit = %+v, %v", r, err)
	}
	items = nil
	if err := s.Results(ctx, "s", hexFP, func(r *runtime.Result) error { items = append(items, r.Item); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(items, []string{"a", "b", "c"}) {
		t.Errorf("Results after commit = %v", items)
	}
	// A new reply for an old key replaces the old one.
	newer := &runtime.Response{Text: "reply a2", FinishReason: "STOP"}
	putAndLog(t, s, hexKey1, newer, true)
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, newer) {
		t.Errorf("CachedResponse(key1) after a new put = %+v, %v", got, err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM responses WHERE key = ?`, keyArg(hexKey1)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d old rows of key1 left in responses (%v)", n, err)
	}
	var idx int
	if err := s.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'results_by_item'`).Scan(&idx); err != nil || idx != 0 {
		t.Errorf("results_by_item still there (%v)", err)
	}
}

// putAndLog does what the runtime does after a call: PutResponse, then
// LogAttempt of the same reply. With together, the writer is stalled so
// both land in one transaction, where they pair up.
func putAndLog(t *testing.T, s *Store, key string, resp *runtime.Response, together bool) {
	t.Helper()
	ctx := context.Background()
	release := func() {}
	if together {
		release = stall(t, s)
	}
	if err := s.PutResponse(ctx, key, resp); err != nil {
		t.Fatal(err)
	}
	a := &runtime.Attempt{Step: "s", Item: "i-" + key[:4], Attempt: 1, Model: "m", RequestKey: key,
		Prompt: "p", Reply: resp.Text, Usage: resp.Usage, Status: "ok"}
	if err := s.LogAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	release()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReplyStoredOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := s.r.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	entries := func(key string) int {
		return count(`SELECT count(*) FROM attempts WHERE request_key = ? AND finish IS NOT NULL`, keyArg(key))
	}
	first := &runtime.Response{Text: "one", Usage: runtime.Usage{PromptTokens: 1, OutputTokens: 2}, FinishReason: "STOP", ModelVersion: "v1"}
	putAndLog(t, s, hexKey1, first, true)
	if n := count(`SELECT count(*) FROM responses`); n != 0 {
		t.Errorf("%d rows in responses; the attempt should hold the reply", n)
	}
	if entries(hexKey1) != 1 {
		t.Errorf("key1 has %d entries, want 1", entries(hexKey1))
	}
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, first) {
		t.Errorf("CachedResponse = %+v, %v; want %+v", got, err, first)
	}
	h, err := s.History(ctx, "i-"+hexKey1[:4])
	if err != nil || len(h.Attempts) != 1 || h.Attempts[0].Reply != "one" || h.Attempts[0].RequestKey != hexKey1 {
		t.Errorf("History = %+v, %v", h, err)
	}

	// Replaced by a reply whose attempt holds it: one entry, the newest.
	second := &runtime.Response{Text: "two", FinishReason: "STOP"}
	putAndLog(t, s, hexKey1, second, true)
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, second) {
		t.Errorf("CachedResponse after a second put = %+v, %v", got, err)
	}
	// Replaced by a put alone (no attempt): the responses table has it.
	third := &runtime.Response{Text: "three"}
	if err := s.PutResponse(ctx, hexKey1, third); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, third) {
		t.Errorf("CachedResponse after a put alone = %+v, %v", got, err)
	}
	if entries(hexKey1) != 0 || count(`SELECT count(*) FROM responses`) != 1 {
		t.Errorf("after a put alone: %d entries in attempts, %d in responses", entries(hexKey1), count(`SELECT count(*) FROM responses`))
	}
	// And back to an attempt's entry.
	fourth := &runtime.Response{Text: "four", FinishReason: "MAX_TOKENS"}
	putAndLog(t, s, hexKey1, fourth, true)
	if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, fourth) {
		t.Errorf("CachedResponse after the fourth put = %+v, %v", got, err)
	}
	if entries(hexKey1) != 1 || count(`SELECT count(*) FROM responses`) != 0 {
		t.Errorf("after the fourth put: %d entries in attempts, %d in responses", entries(hexKey1), count(`SELECT count(*) FROM responses`))
	}

	// Not stalled: however the writer splits them, the reply is cached,
	// and the journal has the attempt.
	for i := range 50 {
		key := fmt.Sprintf("%064x", i+100)
		putAndLog(t, s, key, &runtime.Response{Text: key[60:]}, false)
		if got, err := s.CachedResponse(ctx, key); err != nil || got == nil || got.Text != key[60:] {
			t.Fatalf("CachedResponse(%d) = %+v, %v", i, got, err)
		}
	}
	if n := count(`SELECT count(*) FROM attempts`); n != 53 {
		t.Errorf("%d attempts journaled, want 53", n)
	}
	// A cache hit's attempt is journaled but is not an entry.
	hit := &runtime.Attempt{Step: "s", Item: "hit", Attempt: 1, Model: "m", RequestKey: hexKey2, Reply: "x", Status: "ok", Cached: true}
	if err := s.LogAttempt(ctx, hit); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CachedResponse(ctx, hexKey2); err != nil || got != nil {
		t.Errorf("CachedResponse of a key only a cache hit journaled = %+v, %v", got, err)
	}
}

// TestHistoryPlanSeeks checks that show's results of an item seek the
// primary key per step rather than scan, now that results_by_item is gone.
func TestHistoryPlanSeeks(t *testing.T) {
	s, _ := openTemp(t, Options{})
	plan := queryPlan(t, s.r, itemResultsQuery, "a")
	if strings.Contains(plan, "SCAN results") {
		t.Errorf("history scans results:\n%s", plan)
	}
	t.Logf("plan:\n%s", plan)
}

// TestCacheKeys follows a cache entry through schema v9's index: found
// after Close (cache_keys), after a crash that left it unindexed (Open
// indexes it), by a reader beside a live run, and from a v8 file.
func TestCacheKeys(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	resp := &runtime.Response{Text: "cached", Usage: runtime.Usage{OutputTokens: 2}, FinishReason: "STOP", ModelVersion: "v"}
	putAndLog(t, s, hexKey1, resp, true)
	// Versions stored as NULL (the attempt's model, "m") and as ''.
	sameAsModel := &runtime.Response{Text: "two", FinishReason: "STOP", ModelVersion: "m"}
	putAndLog(t, s, hexKey2, sameAsModel, true)
	hexKey3 := strings.Repeat("c3", 32)
	noVersion := &runtime.Response{Text: "three", FinishReason: "STOP"}
	putAndLog(t, s, hexKey3, noVersion, true)

	// A reader beside the live run: not in cache_keys yet.
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ro.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, resp) {
		t.Errorf("read-only CachedResponse beside the run = %+v, %v", got, err)
	}
	ro.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got, err := s.CachedResponse(ctx, hexKey1); err != nil || !reflect.DeepEqual(got, resp) {
			t.Errorf("%s: CachedResponse = %+v, %v", when, got, err)
		}
		if got, err := s.CachedResponse(ctx, hexKey2); err != nil || !reflect.DeepEqual(got, sameAsModel) {
			t.Errorf("%s: CachedResponse(key2) = %+v, %v", when, got, err)
		}
		if got, err := s.CachedResponse(ctx, hexKey3); err != nil || !reflect.DeepEqual(got, noVersion) {
			t.Errorf("%s: CachedResponse(key3) = %+v, %v", when, got, err)
		}
		var n int
		if err := s.r.QueryRow(`SELECT count(*) FROM cache_keys`).Scan(&n); err != nil || n != 3 {
			t.Errorf("%s: %d rows in cache_keys (%v)", when, n, err)
		}
	}
	check("after Close")

	// As if the run had crashed before Close indexed its entries.
	raw := func(q string) {
		t.Helper()
		db, err := sql.Open("sqlite", dsn(path))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw(`DELETE FROM cache_keys; UPDATE meta SET value = 0 WHERE name = 'cache_keys_upto'`)
	check("after a crash")

	// A v8 file: the entry is in attempts_by_key's rows only.
	path8 := filepath.Join(t.TempDir(), "v8.db")
	db, err := sql.Open("sqlite", dsn(path8, "_pragma=journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, 8); err != nil {
		t.Fatal(err)
	}
	// v8 wrote version as given, NULL for none.
	for _, row := range [][]any{{keyArg(hexKey1), "cached", 2, "v"}, {keyArg(hexKey2), "two", 0, "m"}, {keyArg(hexKey3), "three", 0, nil}} {
		if _, err := db.Exec(`INSERT INTO attempts (step, item, attempt, rung, model, request_key, reply, status, output_tokens, finish, version)
			VALUES ('s', 'a', 1, 0, 'm', ?, ?, 'ok', ?, 'STOP', ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	path = path8
	check("from v8")
}

// TestClearEntriesSeeks guards the plan of the statement that retires a
// key's older entries: rowid lookups, never a scan of the journal.
func TestClearEntriesSeeks(t *testing.T) {
	s, _ := openTemp(t, Options{})
	plan := queryPlan(t, s.w, clearEntriesSQL, 0, []byte{1})
	if strings.Contains(plan, "SCAN attempts") {
		t.Errorf("clearing entries scans the journal:\n%s", plan)
	}
}

// TestCloseEmptiesWAL checks that Close leaves the whole store in the file,
// even with a reader open beside it (which keeps SQLite from removing the
// WAL as the last connection closes).
func TestCloseEmptiesWAL(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	for i := range 100 {
		if err := s.Commit(ctx, okResult("s", fmt.Sprint(i), hexFP)); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Lookup(ctx, "s", "1", hexFP); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL holds %d bytes after Close", fi.Size())
	}
	if r, err := ro.Lookup(ctx, "s", "99", hexFP); err != nil || r == nil {
		t.Errorf("reader after Close: %v, %v", r, err)
	}
}
