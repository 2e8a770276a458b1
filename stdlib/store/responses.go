package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// The response cache (schema v8, v9). A reply is stored once: the attempt
// that got it holds it (attempts.reply), with finish and version set, which
// makes the row a cache entry. PutResponse and the LogAttempt that follows
// it for the same call are paired up by the writer (pairPuts); a reply put
// without such an attempt is written to the responses table instead. Either
// way the newest entry of a key is the only one: writing an entry clears
// the key's older ones when the key may have any (keyFilter).
//
// An entry is found by its attempt's id: for this process's entries the
// key filter holds it, for earlier ones cache_keys does (indexCacheKeys
// adds a run's entries there in one sorted pass, at Close, or at the next
// Open after a crash).

// pendingResponse is a reply queued for the writer, readable before it lands.
type pendingResponse struct {
	resp runtime.Response
}

// putOp is a PutResponse on its way to the writer.
type putOp struct {
	key     string
	p       *pendingResponse
	may     bool  // the key may have an entry already: clear it
	created int64 // unix nanoseconds

	// Set by the writer goroutine only.
	claimed bool // an attempt in the same transaction holds the reply
	carried bool // already waited one batch for its attempt
	noCarry bool // a newer put of the key follows in the batch
}

// claims reports whether attempt a holds exactly the reply of put.
func (put *putOp) claims(a *attemptOp) bool {
	return a.entry && a.key == put.key && a.reply == put.p.resp.Text && a.usage == put.p.resp.Usage
}

// PutResponse caches resp under key (see runtime.RequestKey). Like LogAttempt it
// does not wait for the write; CachedResponse sees the reply at once all the
// same.
func (s *Store) PutResponse(ctx context.Context, key string, resp *runtime.Response) error {
	if resp == nil {
		return fmt.Errorf("caching response %s: nil response", key)
	}
	var may bool
	if s.ops != nil {
		var err error
		// Before the pending entry can be dropped, the filter has the key.
		if may, err = s.responses.add(key, s.loadKeys(ctx)); err != nil {
			return fmt.Errorf("caching response %s: %w", key, corrupt(s.path, err))
		}
	}
	p := &pendingResponse{resp: *resp}
	s.pendingMu.Lock()
	s.pending[key] = p
	s.pendingMu.Unlock()
	put := &putOp{key: key, p: p, may: may, created: time.Now().UnixNano()}
	err := s.enqueue(ctx, &op{
		put:       put,
		groupable: true,
		apply:     func(t *txn) error { return s.writePut(t, put) },
		// Once written (or failed for good) the database is the truth; a
		// newer Put for the same key keeps its own entry.
		after: func(error) {
			s.pendingMu.Lock()
			if s.pending[key] == p {
				delete(s.pending, key)
			}
			s.pendingMu.Unlock()
		},
	})
	if err != nil {
		s.pendingMu.Lock()
		if s.pending[key] == p {
			delete(s.pending, key)
		}
		s.pendingMu.Unlock()
		return fmt.Errorf("caching response %s: %w", key, err)
	}
	return nil
}

// writePut writes a put no attempt claimed into the responses table.
func (s *Store) writePut(t *txn, put *putOp) error {
	if put.claimed {
		return nil // its attempt writes the entry
	}
	k := keyArg(put.key)
	if put.may {
		if err := s.clearEntries(t, put.key); err != nil {
			return err
		}
		s.responses.setAttempt(put.key, 0)
	}
	text, err := json.Marshal(&put.p.resp)
	if err != nil {
		return err
	}
	_, err = t.exec(s.ws.response, k, string(text), put.created)
	return err
}

// clearEntries retires key's cache entries in the journal before a newer
// one is written (clearEntriesSQL).
func (s *Store) clearEntries(t *txn, key string) error {
	_, err := t.exec(s.ws.clearEntries, s.responses.attempt(key), cacheKeyArg(key))
	return err
}

// CachedResponse returns the reply cached under key, or nil.
func (s *Store) CachedResponse(ctx context.Context, key string) (*runtime.Response, error) {
	s.pendingMu.Lock()
	p := s.pending[key]
	s.pendingMu.Unlock()
	if p != nil {
		r := p.resp
		return &r, nil
	}
	var id int64 // the attempt this process wrote the entry in
	if s.ops != nil {
		may, at, err := s.responses.mayHave(key, s.loadKeys(ctx))
		if err != nil {
			return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
		}
		if !may {
			return nil, nil // certain: nothing else writes the file (filter.go)
		}
		id = at
	}
	k := keyArg(key)
	// Newest first: this process's entry, an earlier run's, then (read
	// only, beside a live run) one not in cache_keys yet, then a reply
	// put without an attempt.
	entry := func(st *sql.Stmt, args ...any) (*runtime.Response, error) {
		r, err := scanEntry(st.QueryRowContext(ctx, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
		}
		return r, nil
	}
	if id != 0 {
		if r, err := entry(s.rs.entryByID, id, k); r != nil || err != nil {
			return r, err
		}
	}
	if r, err := entry(s.rs.entryByKey, cacheKeyArg(key), k); r != nil || err != nil {
		return r, err
	}
	if s.ops == nil {
		if r, err := entry(s.rs.entryTail, k); r != nil || err != nil {
			return r, err
		}
	}
	var (
		r    runtime.Response
		text string
	)
	err := s.rs.response.QueryRowContext(ctx, k).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
	}
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, fmt.Errorf("decoding cached response %s: %w", key, err)
	}
	return &r, nil
}

// entryCols are the columns of an attempt that make a cache entry's reply.
const entryCols = `a.reply, a.prompt_tokens, a.output_tokens, a.cached_tokens, a.thinking_tokens, a.finish,
	coalesce(a.version, a.model)`

func scanEntry(row *sql.Row) (*runtime.Response, error) {
	var (
		r               runtime.Response
		finish, version sql.NullString
	)
	u := &r.Usage
	if err := row.Scan(&r.Text, &u.PromptTokens, &u.OutputTokens, &u.CachedTokens, &u.ThinkingTokens, &finish, &version); err != nil {
		return nil, err
	}
	r.FinishReason, r.ModelVersion = finish.String, version.String
	return &r, nil
}

// indexCacheKeys adds to cache_keys the entries written since it last
// ran, in key order (GROUP BY sorts), one pass over the new attempts.
func indexCacheKeys(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var upto, last int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE name = 'cache_keys_upto'),
		(SELECT coalesce(max(id), 0) FROM attempts)`).Scan(&upto, &last)
	if err != nil || last == upto {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO cache_keys (key, attempt)
		SELECT `+cacheKeyExpr+`, max(id) FROM attempts WHERE id > ? AND finish IS NOT NULL GROUP BY 1`, upto); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE name = 'cache_keys_upto'`, last); err != nil {
		return err
	}
	return tx.Commit()
}
