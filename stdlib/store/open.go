package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune Open. The zero value is a writable store with defaults.
type Options struct {
	// ReadOnly opens an existing store without taking the write lock, for
	// status and show commands; it may run beside a writer. Writes return
	// ErrReadOnly.
	ReadOnly bool
	// SyncFull fsyncs every transaction (synchronous=FULL), surviving power
	// loss as well as process crashes. Slower; rarely needed.
	SyncFull bool
	// QueueSize bounds the writes waiting for the writer goroutine; when it
	// is full, Commit, LogAttempt and PutResponse block. Default 4096.
	QueueSize int
	// MaxBatch bounds the writes in one transaction. Default 1024.
	MaxBatch int
	// MaxWait bounds how long the writer holds a transaction open for
	// more results, attempts and replies while they keep arriving, no
	// more than MaxGap apart (group commit; see writer.go, linger).
	// Defaults 2 ms and 250 µs; a negative MaxWait commits at once.
	MaxWait, MaxGap time.Duration
	// CheckLimit is the largest file, in bytes, that Open runs PRAGMA
	// quick_check on; bigger files are trusted, since the check reads the
	// whole file (about 0.7 s for 55 MiB on a busy 2-core machine).
	// Default 32 MiB; negative disables the check.
	CheckLimit int64
}

func (o *Options) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.MaxWait == 0 {
		o.MaxWait = 2 * time.Millisecond
	}
	if o.MaxGap <= 0 {
		o.MaxGap = 250 * time.Microsecond
	}
	if o.CheckLimit == 0 {
		o.CheckLimit = 32 << 20
	}
}

// Store is a runtime.Store on a SQLite file. All methods are safe for
// concurrent use. A writable Store owns a writer goroutine that Close stops.
type Store struct {
	path string
	opts Options
	lock *fileLock // nil when read-only

	w *sql.DB // the one write connection; nil when read-only
	r *sql.DB // read-only connection pool

	ws writeStmts
	rs readStmts

	// mu guards closed and the send side of ops: senders hold it shared, so
	// Close (exclusive) never closes ops under a sender.
	mu      sync.RWMutex
	closed  bool
	ops     chan *op
	stopped chan struct{} // closed when the writer goroutine returns
	urgent  chan struct{} // an op that must not wait was queued (linger)

	pendingMu sync.Mutex
	pending   map[string]*pendingResponse // replies queued but not yet written

	// Miss filters (filter.go); used only when writable, under the lock.
	results   resultFilter
	responses keyFilter

	fpIDs map[string]int64 // fingerprint ids seen by the writer (fpID); writer only

	errMu    sync.Mutex
	asyncErr error // first failed buffered write, reported by Close

	closeOnce sync.Once
	closeErr  error
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open opens (creating if needed, unless read-only) the store at path,
// upgrades its schema and, unless read-only, takes the write lock and starts
// the writer. A store held by another process gives a *LockedError; a file
// that is not a healthy store gives a *CorruptError.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.defaults()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	s := &Store{path: path, opts: opts, pending: map[string]*pendingResponse{}}
	if err := s.open(ctx, abs); err != nil {
		s.release()
		var (
			le *LockedError
			ce *CorruptError
		)
		if errors.As(err, &le) || errors.As(err, &ce) || errors.Is(err, ErrForeign) {
			return nil, err // they name the file and say what to do already
		}
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	if !opts.ReadOnly {
		s.ops = make(chan *op, opts.QueueSize)
		s.stopped = make(chan struct{})
		s.urgent = make(chan struct{}, 1)
		go s.run()
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, abs string) error {
	size, err := s.precheck(abs)
	if err != nil {
		return err
	}
	// Before the lock and the write connection, which would leave files
	// beside it and switch it to WAL: another program's database is refused
	// untouched.
	if err := s.checkMark(ctx, abs, size); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return s.openReadOnly(ctx, abs, size)
	}
	if s.lock, err = lockFile(abs, s.path); err != nil {
		return err
	}
	syncMode := "NORMAL"
	if s.opts.SyncFull {
		syncMode = "FULL"
	}
	// One connection: SQLite has a single writer anyway, and a single
	// connection keeps the prepared statements and the WAL handle warm.
	// _txlock=immediate takes the write lock at BEGIN rather than on the
	// first write, so a transaction never fails half-way on SQLITE_BUSY.
	s.w, err = sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout(10000)", "_pragma=journal_mode(WAL)", "_pragma=synchronous("+syncMode+")",
		"_pragma=foreign_keys(1)", "_txlock=immediate"))
	if err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	if err := s.w.PingContext(ctx); err != nil {
		return corrupt(s.path, err)
	}
	if err := migrate(ctx, s.w, schemaVersion); err != nil {
		return corrupt(s.path, err)
	}
	if err := s.quickCheck(ctx, s.w, size); err != nil {
		return err
	}
	// Entries a crash left out of cache_keys (a run that did not Close).
	if err := indexCacheKeys(ctx, s.w); err != nil {
		return corrupt(s.path, err)
	}
	if err := s.ws.prepare(ctx, s.w); err != nil {
		return corrupt(s.path, err)
	}
	if err := s.openReaders(ctx, abs); err != nil {
		return err
	}
	return s.prepareReads(ctx)
}

// precheck rejects a file that is not SQLite before the driver sees it, and
// returns the file's size (0 when missing). A read-only open needs the file.
func (s *Store) precheck(abs string) (int64, error) {
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		if s.opts.ReadOnly {
			return 0, fmt.Errorf("no store here (nothing has run yet?): %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return 0, fmt.Errorf("creating directory: %w", err)
		}
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		return 0, fmt.Errorf("is a directory")
	}
	if st.Size() == 0 {
		// SQLite treats an empty file as a new database.
		return 0, nil
	}
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return 0, &CorruptError{Path: s.path, Err: errors.New("not an SQLite database")}
	}
	return st.Size(), nil
}

// checkMark refuses an SQLite file of size bytes that is neither empty, nor
// marked with ApplicationID, nor an llmpipe store older than the mark. It
// reads through a query-only connection of its own, so a refused file is
// left exactly as it was.
func (s *Store) checkMark(ctx context.Context, abs string, size int64) error {
	if size == 0 {
		return nil // new
	}
	db, err := sql.Open("sqlite", dsn(abs, "_pragma=busy_timeout(10000)", "_query_only=1"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var app, version, objects, ours int64
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_master),
		(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'results'))`).
		Scan(&app, &version, &objects, &ours)
	if err != nil {
		return corrupt(s.path, fmt.Errorf("reading the store's mark: %w", err))
	}
	switch {
	case app == ApplicationID:
		return nil
	case app != 0:
		return &ForeignError{Path: s.path, Why: fmt.Sprintf("its application_id is %#x", app)}
	case objects == 0 && version == 0:
		return nil // an empty database: a new store
	case version >= 1 && version < markedSince && ours == 2:
		return nil // an llmpipe store from before the mark; migrate marks it
	}
	return &ForeignError{Path: s.path, Why: fmt.Sprintf("it has %d tables and indexes, and no llmpipe mark", objects)}
}

func (s *Store) openReadOnly(ctx context.Context, abs string, size int64) error {
	if err := s.openReaders(ctx, abs); err != nil {
		return err
	}
	v, err := userVersion(ctx, s.r)
	if err != nil {
		return corrupt(s.path, err)
	}
	switch {
	case v > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this llmpipe knows (%d): upgrade llmpipe", v, schemaVersion)
	case v < schemaVersion:
		// Upgrading needs the write lock; a read-only command must not.
		return fmt.Errorf("schema version %d is older than this llmpipe's (%d): run the pipeline once to upgrade the store", v, schemaVersion)
	}
	if err := s.prepareReads(ctx); err != nil {
		return err
	}
	return s.quickCheck(ctx, s.r, size)
}

func (s *Store) openReaders(ctx context.Context, abs string) error {
	var err error
	s.r, err = sql.Open("sqlite", dsn(abs, "_pragma=busy_timeout(10000)", "_pragma=foreign_keys(1)", "_query_only=1"))
	if err != nil {
		return err
	}
	s.r.SetMaxOpenConns(8)
	s.r.SetMaxIdleConns(8)
	if err := s.r.PingContext(ctx); err != nil {
		return corrupt(s.path, err)
	}
	return nil
}

// prepareReads prepares the read statements; only once the schema is
// known to be current, since they name its columns.
func (s *Store) prepareReads(ctx context.Context) error {
	if err := s.rs.prepare(ctx, s.r); err != nil {
		return corrupt(s.path, err)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check on a file of size bytes, unless it is
// new or above Options.CheckLimit. quick_check reads every page but skips
// the index-versus-table cross-check that makes integrity_check slow; still,
// it is linear in the file, hence the limit. Damage it misses on a big file
// surfaces as a *CorruptError from the first query that reads it.
func (s *Store) quickCheck(ctx context.Context, db *sql.DB, size int64) error {
	if size == 0 || s.opts.CheckLimit < 0 || size > s.opts.CheckLimit {
		return nil
	}
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res); err != nil {
		return corrupt(s.path, err)
	}
	if res != "ok" {
		return &CorruptError{Path: s.path, Err: fmt.Errorf("quick_check: %s", res)}
	}
	return nil
}

// dsn builds a file: URI so that any character in the path, '?' included,
// reaches SQLite intact.
func dsn(abs string, params ...string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := ""
	for i, p := range params {
		if i > 0 {
			q += "&"
		}
		q += p
	}
	return u.String() + "?" + q
}

// Path returns the database file the store was opened on, as given to Open.
func (s *Store) Path() string { return s.path }
