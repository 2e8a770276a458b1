package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations is the one registry of schema changes: migrations[i] takes a
// file from version i to i+1 (PRAGMA user_version), each in its own
// transaction. The list is ordered and append-only: a released step is never
// edited, a change (a new table, a new column, a format change) is a new
// step appended at the end, with a comment saying what it adds and why.
// Open runs the missing steps; a read-only open refuses a file that needs
// any.
var migrations = []string{
	// v1: runs, terminal results, the response cache, provider context caches.
	// Times are unix nanoseconds (NULL for unknown), JSON is stored as text.
	`
CREATE TABLE runs (
	id       INTEGER PRIMARY KEY,
	pipeline TEXT NOT NULL,
	started  INTEGER,
	ended    INTEGER,
	args     TEXT NOT NULL DEFAULT '[]',
	summary  TEXT
);
CREATE TABLE results (
	step            TEXT NOT NULL,
	item            TEXT NOT NULL,
	fingerprint     TEXT NOT NULL,
	ok              INTEGER NOT NULL,
	output          TEXT,
	failure         TEXT,
	model           TEXT NOT NULL DEFAULT '',
	rung            INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	prompt_tokens   INTEGER NOT NULL DEFAULT 0,
	output_tokens   INTEGER NOT NULL DEFAULT 0,
	cached_tokens   INTEGER NOT NULL DEFAULT 0,
	thinking_tokens INTEGER NOT NULL DEFAULT 0,
	cost            REAL NOT NULL DEFAULT 0,
	plan            INTEGER NOT NULL DEFAULT 0,
	run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
	at              INTEGER,
	PRIMARY KEY (step, item, fingerprint)
) WITHOUT ROWID;
CREATE TABLE responses (
	key      TEXT PRIMARY KEY,
	response TEXT NOT NULL,
	created  INTEGER
) WITHOUT ROWID;
CREATE TABLE caches (
	name    TEXT PRIMARY KEY,
	cache   TEXT NOT NULL,
	model   TEXT NOT NULL,
	tokens  INTEGER NOT NULL DEFAULT 0,
	created INTEGER,
	expires INTEGER
);
`,
	// v2: the attempts journal, and indexes for show (by item). Results by
	// step and fingerprint, in item order, are served by the primary key.
	`
CREATE TABLE attempts (
	id              INTEGER PRIMARY KEY,
	run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
	step            TEXT NOT NULL,
	item            TEXT NOT NULL,
	attempt         INTEGER NOT NULL,
	rung            INTEGER NOT NULL,
	model           TEXT NOT NULL,
	request_key     TEXT NOT NULL DEFAULT '',
	prompt          TEXT NOT NULL DEFAULT '',
	reply           TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL,
	error           TEXT NOT NULL DEFAULT '',
	prompt_tokens   INTEGER NOT NULL DEFAULT 0,
	output_tokens   INTEGER NOT NULL DEFAULT 0,
	cached_tokens   INTEGER NOT NULL DEFAULT 0,
	thinking_tokens INTEGER NOT NULL DEFAULT 0,
	cost            REAL NOT NULL DEFAULT 0,
	latency_ns      INTEGER NOT NULL DEFAULT 0,
	cached          INTEGER NOT NULL DEFAULT 0,
	at              INTEGER
);
CREATE INDEX attempts_by_item ON attempts(item, id);
CREATE INDEX results_by_item ON results(item);
`,
	// v3: the hash of what an item brought to a step (its data and the
	// outputs it read), so an item edited under the same id runs again.
	`
ALTER TABLE results ADD COLUMN input TEXT NOT NULL DEFAULT '';
`,
	// v4: mark the file as an llmpipe store (ApplicationID, "llmp"), so that
	// --store pointing at another program's database is refused rather
	// than given our tables. Files at v1..v3 predate the mark.
	`
PRAGMA application_id = 1819045232;
`,
	// v5: batch jobs (see batchJobsMigration).
	batchJobsMigration,
	// v6: indexes for the web view's item filters (query.go), so a page of
	// items over a million results is an index range, never a scan: by
	// outcome, by final rung, and (failed results only) by the name of the
	// check that failed last, which is the expression failedCheckExpr.
	// And the parts of an attempt's prompt, for the web view's item page.
	`
ALTER TABLE attempts ADD COLUMN system TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN cache TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN feedback TEXT NOT NULL DEFAULT '';
CREATE INDEX results_by_outcome ON results(step, ok, item);
CREATE INDEX results_by_rung ON results(step, rung, item);
CREATE INDEX results_by_check ON results(step, json_extract(failure, '$.errors[#-1].fields[0].field'), item) WHERE ok = 0;
`,
	// v7: v6's outcome and rung indexes cost every commit about a quarter
	// of the store's write throughput (BenchmarkCommit, 8,330 against
	// 11,600 results/s). Partial indexes hold only the minority a filter
	// looks for (failed results, results that climbed the ladder), so a
	// run whose items succeed on the first rung pays nothing for them; the
	// majority (ok, rung 0) is read in primary-key order, where it is
	// dense. Each holds the other filter's column after item, so a
	// combined filter is checked in the index, without reading rows (an
	// index of this WITHOUT ROWID table holds the primary key, fingerprint
	// included).
	`
DROP INDEX results_by_outcome;
DROP INDEX results_by_rung;
CREATE INDEX results_failed ON results(step, item, rung) WHERE ok = 0;
CREATE INDEX results_escalated ON results(step, rung, item, ok) WHERE rung > 0;
`,
	// v8: each reply stored once, hashes as bytes (issue 18; BenchmarkCommit
	// and `llmpipe bench --scenario S1`: about half the file per item).
	// Hashes (a result's fingerprint and input, an attempt's request key,
	// a cached reply's key) are stored as their bytes when they are
	// lower-case hex, half the size; anything else stays text, and the two
	// never compare equal (sqlval.go, keyArg). The response cache moves
	// into the attempts journal: the attempt that got a reply holds it
	// once, and finish (the finish reason, NULL for an attempt that is not
	// a cache entry) and version (the model version) complete it into a
	// runtime.Response; attempts_by_key finds the newest entry of a key.
	// responses keeps the entries no attempt holds (a reply put without
	// its attempt, and those of older stores), with its keys converted.
	// results_by_item duplicated the primary key, item first, for show's
	// history; History now seeks (step, item) per step instead.
	`
CREATE TABLE results_v8 (
	step            TEXT NOT NULL,
	item            TEXT NOT NULL,
	fingerprint     BLOB NOT NULL,
	ok              INTEGER NOT NULL,
	output          TEXT,
	failure         TEXT,
	model           TEXT NOT NULL DEFAULT '',
	rung            INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	prompt_tokens   INTEGER NOT NULL DEFAULT 0,
	output_tokens   INTEGER NOT NULL DEFAULT 0,
	cached_tokens   INTEGER NOT NULL DEFAULT 0,
	thinking_tokens INTEGER NOT NULL DEFAULT 0,
	cost            REAL NOT NULL DEFAULT 0,
	plan            INTEGER NOT NULL DEFAULT 0,
	run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
	at              INTEGER,
	input           BLOB NOT NULL DEFAULT '',
	PRIMARY KEY (step, item, fingerprint)
) WITHOUT ROWID;
INSERT INTO results_v8 SELECT step, item,
	CASE WHEN length(fingerprint) % 2 = 0 AND fingerprint <> '' AND fingerprint NOT GLOB '*[^0-9a-f]*'
		THEN unhex(fingerprint) ELSE fingerprint END,
	ok, output, failure, model, rung, attempts, prompt_tokens, output_tokens, cached_tokens,
	thinking_tokens, cost, plan, run_id, at,
	CASE WHEN length(input) % 2 = 0 AND input <> '' AND input NOT GLOB '*[^0-9a-f]*'
		THEN unhex(input) ELSE input END
	FROM results;
DROP TABLE results;
ALTER TABLE results_v8 RENAME TO results;
CREATE INDEX results_failed ON results(step, item, rung) WHERE ok = 0;
CREATE INDEX results_escalated ON results(step, rung, item, ok) WHERE rung > 0;
CREATE INDEX results_by_check ON results(step, json_extract(failure, '$.errors[#-1].fields[0].field'), item) WHERE ok = 0;
UPDATE responses SET key = unhex(key)
	WHERE length(key) % 2 = 0 AND key <> '' AND key NOT GLOB '*[^0-9a-f]*';
ALTER TABLE attempts ADD COLUMN finish TEXT;
ALTER TABLE attempts ADD COLUMN version TEXT;
CREATE INDEX attempts_by_key ON attempts(request_key) WHERE finish IS NOT NULL;
`,
	// v9: v8's attempts_by_key put every reply's random key into an index
	// as it was written: a page of it dirtied per item in every
	// transaction, a quarter of the store's CPU per item (BenchmarkItem,
	// 57 against 43 µs) and 45 B per item. cache_keys maps a key to the
	// attempt holding its entry instead, written in key order in bulk,
	// at Close and at Open for what a crash left unindexed: the entries
	// above meta's cache_keys_upto (an attempt id). Within a run the
	// writer keeps the new entries' attempt ids in memory (filter.go).
	// cache_keys holds a key's first 8 bytes (a text key whole): the
	// attempt's request_key confirms it, and two keys alike in 64 bits
	// cost one of them a cache miss, never a wrong reply (cacheKeyArg).
	// And an entry's version is NULL when it is the attempt's model, as
	// it usually is (22 of S1's 450 B per item); '' when there is none.
	`
CREATE TABLE cache_keys (
	key     BLOB PRIMARY KEY,
	attempt INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR REPLACE INTO cache_keys (key, attempt)
	SELECT ` + cacheKeyExpr + `, max(id) FROM attempts WHERE finish IS NOT NULL GROUP BY 1;
UPDATE attempts SET version = '' WHERE finish IS NOT NULL AND version IS NULL;
UPDATE attempts SET version = NULL WHERE finish IS NOT NULL AND version = model;
DROP INDEX attempts_by_key;
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value
) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('cache_keys_upto', (SELECT coalesce(max(id), 0) FROM attempts));
`,
	// v10: a result names its step fingerprint by a small id (fp) into
	// fingerprints, not by the 32-byte hash itself: a step has one
	// fingerprint for thousands of results, and the hash was 31 bytes of
	// every row and of the primary key (S1: 406 to about 375 B per item).
	// Readers find a fingerprint's id by a subquery (fpOf), so every
	// query still takes and returns the hash.
	`
CREATE TABLE fingerprints (
	id          INTEGER PRIMARY KEY,
	fingerprint BLOB NOT NULL UNIQUE
);
INSERT INTO fingerprints (fingerprint) SELECT DISTINCT fingerprint FROM results ORDER BY 1;
CREATE TABLE results_v10 (
	step            TEXT NOT NULL,
	item            TEXT NOT NULL,
	fp              INTEGER NOT NULL,
	ok              INTEGER NOT NULL,
	output          TEXT,
	failure         TEXT,
	model           TEXT NOT NULL DEFAULT '',
	rung            INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	prompt_tokens   INTEGER NOT NULL DEFAULT 0,
	output_tokens   INTEGER NOT NULL DEFAULT 0,
	cached_tokens   INTEGER NOT NULL DEFAULT 0,
	thinking_tokens INTEGER NOT NULL DEFAULT 0,
	cost            REAL NOT NULL DEFAULT 0,
	plan            INTEGER NOT NULL DEFAULT 0,
	run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
	at              INTEGER,
	input           BLOB NOT NULL DEFAULT '',
	PRIMARY KEY (step, item, fp)
) WITHOUT ROWID;
INSERT INTO results_v10 SELECT step, item,
	(SELECT id FROM fingerprints f WHERE f.fingerprint = r.fingerprint),
	ok, output, failure, model, rung, attempts, prompt_tokens, output_tokens, cached_tokens,
	thinking_tokens, cost, plan, run_id, at, input
	FROM results r;
DROP TABLE results;
ALTER TABLE results_v10 RENAME TO results;
CREATE INDEX results_failed ON results(step, item, rung) WHERE ok = 0;
CREATE INDEX results_escalated ON results(step, rung, item, ok) WHERE rung > 0;
CREATE INDEX results_by_check ON results(step, json_extract(failure, '$.errors[#-1].fields[0].field'), item) WHERE ok = 0;
`,
}

// fpOf is the id of the fingerprint bound as its parameter (keyArg form),
// for a result query's "fp = "+fpOf; NULL, matching nothing, for a
// fingerprint no result has had.
const fpOf = `(SELECT id FROM fingerprints WHERE fingerprint = ?)`

// fpHash is the hash of a results row's fp, for a query's select list.
const fpHash = `(SELECT fingerprint FROM fingerprints WHERE id = fp)`

// cacheKeyExpr is cache_keys.key of an attempt's request_key, as
// cacheKeyArg makes it in Go.
const cacheKeyExpr = `CASE WHEN typeof(request_key) = 'blob' THEN substr(request_key, 1, 8) ELSE request_key END`

// ApplicationID is the PRAGMA application_id of every llmpipe store, set by
// migration v4: the bytes "llmp".
const ApplicationID = 0x6C6C6D70

// markedSince is the first schema version whose files carry ApplicationID;
// an unmarked file below it is an older llmpipe store if it has our tables.
const markedSince = 4

// schemaVersion is the version this build writes.
var schemaVersion = len(migrations)

// userVersion reads PRAGMA user_version.
func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// migrate brings db up to version target, one transaction per step so a
// crash mid-upgrade leaves the file at a whole version.
func migrate(ctx context.Context, db *sql.DB, target int) error {
	v, err := userVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this llmpipe knows (%d): upgrade llmpipe", v, len(migrations))
	}
	for ; v < target; v++ {
		if err := migrateStep(ctx, db, v); err != nil {
			return err
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("upgrading schema to v%d: %w", from+1, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return fmt.Errorf("upgrading schema to v%d: %w", from+1, err)
	}
	// PRAGMA takes no bind parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return fmt.Errorf("upgrading schema to v%d: %w", from+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrading schema to v%d: %w", from+1, err)
	}
	return nil
}
