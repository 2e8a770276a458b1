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

// The response cache (schema v8). A reply is stored once: the attempt that
// got it holds it (attempts.reply), with finish and version set, which
// makes the row a cache entry. PutResponse and the LogAttempt that follows
// it for the same call are paired up by the writer (pairPuts); a reply put
// without such an attempt is written to the responses table instead. Either
// way the newest entry of a key is the only one: writing an entry clears
// the key's older ones when the key may have any (keyFilter).

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
		put:   put,
		apply: func(t *txn) error { return s.writePut(t, put) },
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
		if _, err := t.exec(s.ws.clearEntries, k); err != nil {
			return err
		}
	}
	text, err := json.Marshal(&put.p.resp)
	if err != nil {
		return err
	}
	_, err = t.exec(s.ws.response, k, string(text), put.created)
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
	if s.ops != nil {
		may, err := s.responses.mayHave(key, s.loadKeys(ctx))
		if err != nil {
			return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
		}
		if !may {
			return nil, nil // certain: nothing else writes the file (filter.go)
		}
	}
	k := keyArg(key)
	var (
		r               runtime.Response
		finish, version sql.NullString
	)
	u := &r.Usage
	err := s.rs.entry.QueryRowContext(ctx, k).Scan(&r.Text, &u.PromptTokens, &u.OutputTokens, &u.CachedTokens,
		&u.ThinkingTokens, &finish, &version)
	if err == nil {
		r.FinishReason, r.ModelVersion = finish.String, version.String
		return &r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
	}
	var text string
	err = s.rs.response.QueryRowContext(ctx, k).Scan(&text)
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
