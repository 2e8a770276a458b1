package runtime

import (
	"context"
	"time"
)

// BatchState is where a batch job is in its life.
type BatchState string

const (
	BatchPending   BatchState = "pending"   // created, waiting to run
	BatchRunning   BatchState = "running"   // in progress
	BatchSucceeded BatchState = "succeeded" // results ready (single requests may still have failed)
	BatchFailed    BatchState = "failed"    // the job as a whole failed: no results
	BatchCancelled BatchState = "cancelled" // cancelled (by llmpipe cancel or at the deadline)
	BatchExpired   BatchState = "expired"   // not finished in the service's window: no results
	BatchGone      BatchState = "gone"      // the service no longer knows the job (404)
	BatchAbandoned BatchState = "abandoned" // never created: the create call did not happen or failed
)

// Done reports whether the state is terminal.
func (s BatchState) Done() bool {
	switch s {
	case BatchPending, BatchRunning, "":
		return false
	}
	return true
}

// BatchJobSpec is one job to create: requests for one model, each under a
// key unique within the job.
type BatchJobSpec struct {
	Model       string
	DisplayName string
	Keys        []string
	Requests    []*Request
}

// BatchStatus is what the service says about a job.
type BatchStatus struct {
	Name        string // "batches/…"
	DisplayName string
	Model       string
	State       BatchState
	Total       int // requests in the job (0 when the service did not say)
	Succeeded   int
	Failed      int
	Pending     int
	Error       string // why the job failed, when it did
	Created     time.Time
}

// BatchResult is one request's outcome inside a finished job: a Response
// or an error classified like an online call's.
type BatchResult struct {
	Key   string // "" when the service did not echo it: then Index counts
	Index int    // position in the job's output (inline output keeps input order)
	Resp  *Response
	Err   error
}

// BatchProvider is implemented by providers with a batch API (Gemini Batch
// Mode). Errors are *Error like Generate's; a job the service does not know
// is an *Error with Status 404. A create refused for lack of room (429) is
// an *Error of ClassRateLimit: the caller waits for its other jobs to end.
type BatchProvider interface {
	// CreateBatch submits a job and returns its name. It chooses inline
	// requests or an uploaded input file by size.
	CreateBatch(ctx context.Context, spec *BatchJobSpec) (string, error)
	// BatchStatus polls a job.
	BatchStatus(ctx context.Context, name string) (*BatchStatus, error)
	// BatchResults reads a succeeded job's results, in any order; keys
	// are the job's keys as given to CreateBatch (the provider may have
	// sent them encoded), and each result carries one of them.
	BatchResults(ctx context.Context, name string, keys []string) ([]BatchResult, error)
	// CancelBatch asks the service to stop a job.
	CancelBatch(ctx context.Context, name string) error
	// ListBatches lists the account's jobs (for adopting a job whose name
	// was lost in a crash).
	ListBatches(ctx context.Context) ([]BatchStatus, error)
	// CleanupBatch deletes the job's input and results files, once its
	// results are stored.
	CleanupBatch(ctx context.Context, name string) error
}

// BatchJob is a job as the store keeps it.
type BatchJob struct {
	ID          int64
	RunID       int64
	Step        string
	Model       string
	DisplayName string
	Name        string // "" until the create call returned
	State       BatchState
	Items       []BatchItem
	Done        int // results that answered an item
	Failed      int // results that were errors
	Tokens      int // estimated input tokens, for the enqueued-token limit
	Created     time.Time
	Ended       time.Time
}

// BatchItem is one item's request in a job: Key is the job-unique key sent
// with the request, RequestKey the response-cache key of the request.
type BatchItem struct {
	Item       string
	Key        string
	RequestKey string
}

// BatchStore is implemented by stores that keep batch jobs. A job is
// recorded (display name and items) before its create call, and its name
// right after, each committed before the call returns, never delayed.
type BatchStore interface {
	// AddBatchJob records a job about to be created and sets j.ID.
	AddBatchJob(ctx context.Context, j *BatchJob) error
	// SetBatchJobName records the service's name for a created job.
	SetBatchJobName(ctx context.Context, id int64, name string) error
	// SetBatchJobState records a job's state and counts; a terminal state
	// ends it (its items are free to go into another job).
	SetBatchJobState(ctx context.Context, id int64, state BatchState, done, failed int) error
	// LiveBatchJobs lists the jobs not ended, with their items.
	LiveBatchJobs(ctx context.Context) ([]*BatchJob, error)
}
