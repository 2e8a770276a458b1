// Package store keeps a pipeline's run journal and response cache in one
// SQLite file, implementing runtime.Store.
//
// # Layout
//
// The file holds five tables: runs (one row per `llmpipe run`), results (the
// terminal outcome of an item at a step under a step fingerprint, upserted),
// attempts (every call made, with prompt and reply, append-only), responses
// and caches (context caches created on the provider, so a crash's
// leftovers can be deleted).
//
// The reply cache, keyed by runtime.RequestKey, lives mostly in the
// attempts journal (schema v8): the attempt that got a reply holds it once,
// and is marked as the key's entry (responses.go); the responses table
// keeps only replies put without an attempt. Hashes are stored as their
// bytes (sqlval.go, keyArg). A writable store answers certain misses of
// Lookup and CachedResponse from in-memory filters, without SQL (filter.go).
//
// # Durability and group commit
//
// The database runs in WAL mode with synchronous=NORMAL. In WAL mode a commit
// is an append to the -wal file; NORMAL skips the fsync at each commit and
// syncs only at checkpoints. The appended pages are already in the operating
// system's page cache when the commit returns, so a killed process (kill -9,
// a panic, an OOM kill) loses nothing that was committed: the next open
// replays the WAL. Only an operating-system crash or power loss can drop the
// last few transactions, and those items are simply re-run. Options.SyncFull
// buys power-loss durability at the cost of one fsync per transaction.
//
// Every write goes through one writer goroutine that owns the only write
// connection. Commit queues its result and waits; the writer drains the queue
// and writes everything waiting (results, buffered attempts, buffered
// responses) in one transaction, then wakes the batch's waiters. Many
// concurrent Commit calls therefore share one transaction and one WAL append.
// The queue is bounded, so LogAttempt and PutResponse, which do not wait for
// the write, block when the writer falls behind.
//
// Reads use a separate pool of read-only connections, which WAL lets run
// alongside the writer.
//
// # Concurrency between processes
//
// A writable Store holds an exclusive flock on "<path>.lock" for its lifetime
// and writes its pid there, so a second `llmpipe run` on the same file fails
// with a *LockedError naming the holder. Options.ReadOnly opens without the
// lock, for `llmpipe status` and `llmpipe show` while a run is going.
package store
