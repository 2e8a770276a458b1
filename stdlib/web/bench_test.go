package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/stdlib/store"
	"github.com/llmpipe/llmpipe/stdlib/web"
)

// benchItems is the store size of BenchmarkItemsAPI.
var benchItems = func() int {
	if n, err := strconv.Atoi(os.Getenv("LLMPIPE_BENCH_ITEMS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

// fillStore writes n results of step "greet" straight into a store file
// (one INSERT … SELECT, far faster than committing them one by one):
// items item-0000000…, every fifth failed, its last failed check one of
// age, name and email in turn; final rungs 0, 1, 2 in turn.
func fillStore(b *testing.B, path, fingerprint string, n int) {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, path, store.Options{}) // creates the schema
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `
		INSERT INTO results (step, item, fingerprint, ok, output, failure, model, rung, attempts, cost, at)
		WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ?)
		SELECT 'greet', printf('item-%07d', i), ?, i % 5 != 0,
			CASE WHEN i % 5 != 0 THEN '{"greeting":"hello"}' END,
			CASE WHEN i % 5 = 0 THEN json_object('class', 'check_failed', 'message', 'gave up',
				'errors', json_array(json_object('attempt', 1, 'class', 'check_failed',
					'fields', json_array(json_object('field', CASE i % 3 WHEN 0 THEN 'age' WHEN 1 THEN 'name' ELSE 'email' END,
						'message', 'wrong'))))) END,
			'gemini-2.5-flash', i % 3, 1 + i % 3, 0.0001, 1700000000000000000 + i
		FROM c`, n, fingerprint)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkItemsAPI times /api/items with each filter over a store of
// LLMPIPE_BENCH_ITEMS results (default 1M), through the handler, as a
// browser's request would be answered. The store is built once (about a
// minute for 1M on a busy 2-core machine).
//
//	go test -run '^$' -bench ItemsAPI -benchtime 20x ./stdlib/web/
func BenchmarkItemsAPI(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.jsonl"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "main.llmp")
	if err := os.WriteFile(path, []byte(pipelineSrc), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := llmpipe.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	fillStore(b, p.DefaultStorePath(), p.Program.Steps[0].Fingerprint(), benchItems)
	s, err := store.Open(context.Background(), p.DefaultStorePath(), store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	srv, err := web.New(web.Options{Store: s, Program: p.Program, Pipeline: p.Name()})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	for _, bc := range []struct{ name, query string }{
		{"all", ""},
		{"failed", "outcome=failed"},
		{"ok", "outcome=ok"},
		{"check", "check=email"},
		{"rung", "rung=2"},
		{"prefix", "prefix=item-0531"},
		{"failed+rung+prefix", "outcome=failed&rung=1&prefix=item-07"},
		{"failed/page100", "outcome=failed&page=100"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/items?step=greet&"+bc.query, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.query, rec.Code, rec.Body)
				}
			}
		})
	}
	b.Run("page/failed", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items?step=greet&outcome=failed&check=age", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("%d", rec.Code)
			}
		}
	})
}
