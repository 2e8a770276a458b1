package sim

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// Batch job states, as metadata.state spells them.
const (
	batchPending   = "BATCH_STATE_PENDING"
	batchRunning   = "BATCH_STATE_RUNNING"
	batchSucceeded = "BATCH_STATE_SUCCEEDED"
	batchFailed    = "BATCH_STATE_FAILED"
	batchCancelled = "BATCH_STATE_CANCELLED"
	batchExpired   = "BATCH_STATE_EXPIRED"
)

func terminal(state string) bool {
	return state != batchPending && state != batchRunning
}

// batchReq is one request of a job, as the create call (or the input
// file) gave it.
type batchReq struct {
	key      string          // the item's key: metadata.key inline, key in a file
	metadata json.RawMessage // inline only: echoed with the response
	body     []byte          // the GenerateContentRequest, camelCase JSON
	tokens   int             // input tokens, for the enqueued-token limit
}

// batchJob is one batch. Its requests run when it turns terminal; after
// that only the results are kept.
type batchJob struct {
	id, model, displayName string
	inputFile              string // "files/…" for file input, "" inline
	reqs                   []batchReq
	count                  int // len(reqs) at create
	tokens                 int
	created, updated       time.Time
	due                    time.Time // when it ends
	outcome                string    // the terminal state drawn at create
	state                  string
	ok, failed             int
	inline                 []json.RawMessage // inline results, in input order
	resultsFile            string            // "files/batch-<id>" for file input
	errCode                int               // Operation error (google.rpc code) when it ended badly
	errMsg                 string
}

func (j *batchJob) name() string { return "batches/" + j.id }

// batches is the job table. One mutex guards it; a job's requests run
// under it when the job ends, which keeps the bookkeeping simple at the
// price of making other batch calls wait that long.
type batches struct {
	mu       sync.Mutex
	byID     map[string]*batchJob
	order    []*batchJob    // creation order, deleted jobs removed
	enqueued map[string]int // model → input tokens of live jobs
	wake     chan struct{}  // tells the scheduler a job was added
	seq      uint64         // jobs created, for the outcome draw
	clock    clock.Clock
}

func newBatches(c clock.Clock) *batches {
	if c == nil {
		c = clock.Real
	}
	return &batches{
		byID:     map[string]*batchJob{},
		enqueued: map[string]int{},
		wake:     make(chan struct{}, 1),
		clock:    c,
	}
}

// advance brings j up to now: PENDING for the first half of its latency,
// RUNNING for the second, then its outcome. The caller holds b.mu.
func (s *Server) advance(j *batchJob, now time.Time) {
	if terminal(j.state) {
		return
	}
	half := j.created.Add(j.due.Sub(j.created) / 2)
	switch {
	case now.Before(half):
		return
	case now.Before(j.due):
		if j.state == batchPending {
			j.state, j.updated = batchRunning, half
		}
		return
	}
	s.end(j, j.outcome, j.due)
	if j.state == batchSucceeded {
		s.runJob(j)
	}
}

// end moves a live job to a terminal state at t and frees its tokens.
// The caller holds b.mu.
func (s *Server) end(j *batchJob, state string, t time.Time) {
	b := s.batches
	b.enqueued[j.model] -= j.tokens
	if b.enqueued[j.model] <= 0 {
		delete(b.enqueued, j.model)
	}
	j.state, j.updated = state, t
	j.errCode, j.errMsg = 0, ""
	switch state {
	case batchSucceeded:
		s.st.batch(func(c *BatchCounts) { c.Succeeded++ })
		return // runJob clears reqs once it has run them
	case batchFailed:
		j.errCode, j.errMsg = 13, "The batch failed: an internal error occurred while processing it."
		s.st.batch(func(c *BatchCounts) { c.Failed++ })
	case batchExpired:
		j.errCode, j.errMsg = 4, "The batch expired: it was not processed within 48 hours."
		s.st.batch(func(c *BatchCounts) { c.Expired++ })
	case batchCancelled:
		j.errCode, j.errMsg = 1, "The batch was cancelled."
		s.st.batch(func(c *BatchCounts) { c.Cancelled++ })
	}
	s.logNotRun(j, t)
}

// logNotRun gives each request of a job that ends without running them a
// log line (status 0, kind "batch:cancelled", "batch:failed",
// "batch:expired" or "batch:unfinished"), so that the log holds every
// request of every job exactly once, run or not. It drops the requests.
func (s *Server) logNotRun(j *batchJob, t time.Time) {
	kind := "batch:unfinished"
	if terminal(j.state) {
		kind = "batch:" + strings.ToLower(strings.TrimPrefix(j.state, "BATCH_STATE_"))
	}
	if s.log.enabled() {
		path := "/v1beta/" + j.name()
		for i := range j.reqs {
			r := &j.reqs[i]
			s.logExchange(&exchange{body: r.body, e: LogEntry{
				Time: t, Method: "BATCH", Path: path, Model: j.model, Batch: j.name(),
				Key: r.key, Item: itemOf(r.key), Window: s.window(t), Kind: kind,
			}})
		}
	}
	j.reqs = nil
}

// closeBatches logs the requests of jobs still live when the server
// closes; it runs after the scheduler and every handler have stopped.
func (s *Server) closeBatches() {
	b := s.batches
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	for _, j := range b.order {
		s.advance(j, now)
		if !terminal(j.state) {
			s.logNotRun(j, now)
		}
	}
}

// advanceAll advances every job and returns the earliest end still to
// come (zero if none).
func (s *Server) advanceAll() time.Time {
	b := s.batches
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	var next time.Time
	for _, j := range b.order {
		s.advance(j, now)
		if !terminal(j.state) && (next.IsZero() || j.due.Before(next)) {
			next = j.due
		}
	}
	return next
}

// runBatches is the one goroutine that ends jobs on time, so that their
// requests run (and reach the log) when they are due even if no client
// asks. Every call that reads a job advances it too, so a reply never
// depends on this goroutine's timing. It returns when the server closes.
func (s *Server) runBatches() {
	defer close(s.batchesDone)
	c := s.batches.clock
	t := c.NewTimer(time.Hour)
	defer t.Stop()
	for {
		next := s.advanceAll()
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(c.Now()), time.Millisecond)
		}
		t.Reset(d)
		select {
		case <-s.closing:
			return
		case <-s.batches.wake:
		case <-t.C():
		}
	}
}

// drawOutcome picks how the seq-th job created ends, from the seed: the
// same creates in the same order end the same way.
func (s *Server) drawOutcome(seq uint64) string {
	u := s.seed.str("batch").u64(seq).rng().float()
	switch {
	case u < s.cfg.BatchFail:
		return batchFailed
	case u < s.cfg.BatchFail+s.cfg.BatchExpire:
		return batchExpired
	}
	return batchSucceeded
}
