package runtime

import (
	"context"
	"encoding/json"
	"time"
)

// Resetter is implemented by stores that can delete every stored result.
// Run calls it for Settings.Fresh once every source and sink is open, so a
// fresh run that cannot start leaves the earlier results in place.
type Resetter interface {
	Reset(ctx context.Context) error
}

// Store keeps a pipeline's journal and response cache so that a crashed or
// interrupted run resumes without paying again. All methods are safe for
// concurrent use. stdlib/store implements it on SQLite.
type Store interface {
	// BeginRun records the start of a run and returns its id.
	BeginRun(ctx context.Context, run RunInfo) (int64, error)
	// EndRun records how the run ended.
	EndRun(ctx context.Context, runID int64, summary json.RawMessage) error

	// Lookup returns the terminal result of item at step under fingerprint,
	// or nil when there is none.
	Lookup(ctx context.Context, step, item, fingerprint string) (*Result, error)
	// Commit stores a terminal result durably before it returns. Concurrent
	// commits are grouped into one transaction.
	Commit(ctx context.Context, res *Result) error
	// LogAttempt journals one attempt; it may be buffered until the next
	// Commit (an attempt lost in a crash is re-made anyway).
	LogAttempt(ctx context.Context, a *Attempt) error

	// CachedResponse returns a stored reply for the request key, or nil.
	CachedResponse(ctx context.Context, key string) (*Response, error)
	// PutResponse stores a reply under the request key (buffered like LogAttempt).
	PutResponse(ctx context.Context, key string, resp *Response) error

	// Context caches created on the provider, so a crash's leftovers are
	// deleted on the next start.
	SaveCache(ctx context.Context, c CacheRecord) error
	ForgetCache(ctx context.Context, name string) error
	Caches(ctx context.Context) ([]CacheRecord, error)

	Close() error
}

// RunInfo describes a run for the journal.
type RunInfo struct {
	Pipeline string
	Started  time.Time
	Args     []string
}

// Result is the terminal outcome of one item at one step.
type Result struct {
	RunID       int64
	Step        string
	Item        string
	Fingerprint string
	// Input hashes what the item brought to the step (its data and the
	// outputs it read), so an item edited under the same id runs again.
	Input    string
	OK       bool
	Output   json.RawMessage // the step's output (JSON), when OK
	Failure  *Failure        // when not OK
	Model    string
	Rung     int
	Attempts int
	Usage    Usage
	Cost     Money
	Plan     int
	At       time.Time
}

// Attempt is one call (or cache hit) made for an item.
type Attempt struct {
	RunID      int64
	Step       string
	Item       string
	Attempt    int
	Rung       int
	Model      string
	RequestKey string
	// Prompt is the user turn as sent: the rendered prompt, then the
	// feedback of a retry after a blank line (Feedback holds that part).
	Prompt   string
	System   string // the system instruction sent with the call, if any
	Cache    string // the context cache the call named, if any
	Feedback string // the feedback appended to Prompt on a retry
	Reply    string
	Status   string // "ok", or the failure class
	Error    string
	Usage    Usage
	Cost     Money
	Latency  time.Duration
	Cached   bool
	At       time.Time
	// Job is the batch job that answered the attempt ("batches/…"); ""
	// for an online call.
	Job string
}

// CacheRecord is a cached content the run created on the provider.
type CacheRecord struct {
	Name    string
	Cache   string // cache block name
	Model   string
	Tokens  int
	Created time.Time
	Expires time.Time
}
