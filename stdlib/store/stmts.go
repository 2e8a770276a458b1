package store

import (
	"context"
	"database/sql"
	"errors"
)

// resultCols is the column list every result query selects, in scanResult's
// order; the fingerprint comes from its id (schema v10).
const resultCols = `step, item, ` + fpHash + `, ok, output, failure, model, rung, attempts,
	prompt_tokens, output_tokens, cached_tokens, thinking_tokens, cost, plan, run_id, at, input`

// resultInsertCols is resultCols as inserted: the fingerprint's id.
const resultInsertCols = `step, item, fp, ok, output, failure, model, rung, attempts,
	prompt_tokens, output_tokens, cached_tokens, thinking_tokens, cost, plan, run_id, at, input`

// clearEntriesSQL retires a key's entries: the one this process wrote (?1,
// its attempt id, 0 for none) and the one cache_keys knows (?2, the key's
// cacheKeyArg).
const clearEntriesSQL = `UPDATE attempts SET finish = NULL, version = NULL
	WHERE id IN (?1, (SELECT attempt FROM cache_keys WHERE key = ?2)) AND finish IS NOT NULL`

// writeStmts are prepared once on the write connection and bound to each
// batch transaction.
type writeStmts struct {
	result, attempt, response  *sql.Stmt
	resultNew                  *sql.Stmt // result, for an item certainly new
	fpAdd, fpID                *sql.Stmt // a fingerprint's id (schema v10)
	clearEntries, dropResponse *sql.Stmt // older cache entries of a key
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	return prepareAll(ctx, db, map[**sql.Stmt]string{
		&w.result: `INSERT INTO results (` + resultInsertCols + `)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (step, item, fp) DO UPDATE SET
				ok = excluded.ok, output = excluded.output, failure = excluded.failure,
				model = excluded.model, rung = excluded.rung, attempts = excluded.attempts,
				prompt_tokens = excluded.prompt_tokens, output_tokens = excluded.output_tokens,
				cached_tokens = excluded.cached_tokens, thinking_tokens = excluded.thinking_tokens,
				cost = excluded.cost, plan = excluded.plan, run_id = excluded.run_id, at = excluded.at,
				input = excluded.input`,
		// Plain: the upsert's conflict handling costs about 5 µs per
		// item (BenchmarkItem: 41 against 36 µs).
		&w.fpAdd:     `INSERT INTO fingerprints (fingerprint) VALUES (?) ON CONFLICT DO NOTHING`,
		&w.fpID:      `SELECT id FROM fingerprints WHERE fingerprint = ?`,
		&w.resultNew: `INSERT INTO results (` + resultInsertCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		&w.attempt: `INSERT INTO attempts (` + attemptCols + `)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		&w.clearEntries: clearEntriesSQL,
		&w.dropResponse: `DELETE FROM responses WHERE key = ?`,
		&w.response: `INSERT INTO responses (key, response, created) VALUES (?,?,?)
			ON CONFLICT (key) DO UPDATE SET response = excluded.response, created = excluded.created`,
	})
}

func (w *writeStmts) close() error {
	return closeAll(w.result, w.resultNew, w.fpAdd, w.fpID, w.attempt, w.response, w.clearEntries, w.dropResponse)
}

// readStmts are the hot reads, prepared on the read pool (database/sql
// re-prepares them lazily on each pooled connection and keeps them).
type readStmts struct {
	lookup, response                 *sql.Stmt
	entryByID, entryByKey, entryTail *sql.Stmt // a cache entry in the journal
}

func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	return prepareAll(ctx, db, map[**sql.Stmt]string{
		&r.lookup: `SELECT ` + resultCols + ` FROM results WHERE step = ? AND item = ? AND fp = ` + fpOf,
		&r.entryByID: `SELECT ` + entryCols + ` FROM attempts a
			WHERE a.id = ? AND a.request_key = ? AND a.finish IS NOT NULL`,
		&r.entryByKey: `SELECT ` + entryCols + ` FROM cache_keys c JOIN attempts a ON a.id = c.attempt
			WHERE c.key = ? AND a.request_key = ? AND a.finish IS NOT NULL`,
		// Entries a live writer has not put in cache_keys yet (read-only).
		&r.entryTail: `SELECT ` + entryCols + ` FROM attempts a
			WHERE a.id > (SELECT value FROM meta WHERE name = 'cache_keys_upto')
				AND a.request_key = ? AND a.finish IS NOT NULL ORDER BY a.id DESC LIMIT 1`,
		&r.response: `SELECT response FROM responses WHERE key = ?`,
	})
}

func (r *readStmts) close() error {
	return closeAll(r.lookup, r.response, r.entryByID, r.entryByKey, r.entryTail)
}

func prepareAll(ctx context.Context, db *sql.DB, m map[**sql.Stmt]string) error {
	for dst, q := range m {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		*dst = st
	}
	return nil
}

func closeAll(stmts ...*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
