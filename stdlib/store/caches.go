package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/llmpipe/llmpipe/runtime"
)

// SaveCache records (or updates) a context cache created on the provider.
func (s *Store) SaveCache(ctx context.Context, c runtime.CacheRecord) error {
	err := s.do(ctx, func(t *txn) error {
		_, err := t.tx.Exec(`INSERT INTO caches (name, cache, model, tokens, created, expires)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET cache = excluded.cache, model = excluded.model,
				tokens = excluded.tokens, created = excluded.created, expires = excluded.expires`,
			c.Name, c.Cache, c.Model, c.Tokens, nanos(c.Created), nanos(c.Expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording cache %s: %w", c.Name, err)
	}
	return nil
}

// ForgetCache drops the record of a cache (deleted on the provider, or gone).
// Forgetting an unknown name is not an error.
func (s *Store) ForgetCache(ctx context.Context, name string) error {
	err := s.do(ctx, func(t *txn) error {
		_, err := t.tx.Exec(`DELETE FROM caches WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting cache %s: %w", name, err)
	}
	return nil
}

// Caches lists the recorded caches by name.
func (s *Store) Caches(ctx context.Context) ([]runtime.CacheRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, cache, model, tokens, created, expires FROM caches ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing caches: %w", corrupt(s.path, err))
	}
	defer rows.Close()
	var out []runtime.CacheRecord
	for rows.Next() {
		var (
			c                runtime.CacheRecord
			created, expires sql.NullInt64
		)
		if err := rows.Scan(&c.Name, &c.Cache, &c.Model, &c.Tokens, &created, &expires); err != nil {
			return nil, fmt.Errorf("listing caches: %w", err)
		}
		c.Created, c.Expires = fromNanos(created), fromNanos(expires)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing caches: %w", corrupt(s.path, err))
	}
	return out, nil
}
