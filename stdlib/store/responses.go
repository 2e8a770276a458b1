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

// pendingResponse is a reply queued for the writer, readable before it lands.
type pendingResponse struct {
	resp runtime.Response
}

// PutResponse caches resp under key (see runtime.RequestKey). Like LogAttempt it
// does not wait for the write; CachedResponse sees the reply at once all the
// same.
func (s *Store) PutResponse(ctx context.Context, key string, resp *runtime.Response) error {
	if resp == nil {
		return fmt.Errorf("caching response %s: nil response", key)
	}
	text, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("caching response %s: %w", key, err)
	}
	p := &pendingResponse{resp: *resp}
	if s.ops != nil {
		s.responses.put(key) // before the pending entry can be dropped
	}
	s.pendingMu.Lock()
	s.pending[key] = p
	s.pendingMu.Unlock()
	created := time.Now().UnixNano()
	err = s.enqueue(ctx, &op{
		apply: func(t *txn) error {
			_, err := t.exec(s.ws.response, key, string(text), created)
			return err
		},
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
	var text string
	err := s.rs.response.QueryRowContext(ctx, key).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cached response %s: %w", key, corrupt(s.path, err))
	}
	var r runtime.Response
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, fmt.Errorf("decoding cached response %s: %w", key, err)
	}
	return &r, nil
}
