package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// fakeBatch is a Batch Mode service in memory on top of fakeProvider: a job
// ends at its first poll (or with the state end gives it), answering each
// request with the same reply function as an online call.
type fakeBatch struct {
	fakeProvider
	mu       sync.Mutex
	jobs     map[string]*fakeJob
	order    []string
	limit    int            // enqueued-token limit per model; 0: none
	enqueued map[string]int // live tokens per model
	maxEnq   int            // the most ever enqueued at once
	end      func(n int) runtime.BatchState
	created  int
	// byItem counts the jobs each item went into.
	byItem  map[string]int
	cleaned []string
}

type fakeJob struct {
	spec    *runtime.BatchJobSpec
	state   runtime.BatchState
	tokens  int
	n       int
	results []runtime.BatchResult
}

func newFakeBatch(reply func(req *runtime.Request, n int) (*runtime.Response, error)) *fakeBatch {
	return &fakeBatch{fakeProvider: fakeProvider{reply: reply}, jobs: map[string]*fakeJob{}, enqueued: map[string]int{}, byItem: map[string]int{}}
}

func (f *fakeBatch) CreateBatch(ctx context.Context, spec *runtime.BatchJobSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tokens := 0
	for _, r := range spec.Requests {
		tokens += (len(r.System) + len(r.Prompt) + 3) / 4
	}
	if f.limit > 0 && f.enqueued[spec.Model]+tokens > f.limit {
		return "", &runtime.Error{Class: runtime.ClassRateLimit, Status: 429, Message: "enqueued tokens"}
	}
	f.enqueued[spec.Model] += tokens
	f.maxEnq = max(f.maxEnq, f.enqueued[spec.Model])
	f.created++
	name := fmt.Sprintf("batches/j%d", f.created)
	f.jobs[name] = &fakeJob{spec: spec, state: runtime.BatchPending, tokens: tokens, n: f.created}
	f.order = append(f.order, name)
	for _, k := range spec.Keys {
		f.byItem[k]++
	}
	return name, nil
}

func (f *fakeBatch) BatchStatus(ctx context.Context, name string) (*runtime.BatchStatus, error) {
	f.mu.Lock()
	j := f.jobs[name]
	f.mu.Unlock()
	if j == nil {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Status: 404, Message: "not found"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !j.state.Done() {
		j.state = runtime.BatchSucceeded
		if f.end != nil {
			j.state = f.end(j.n)
		}
		f.enqueued[j.spec.Model] -= j.tokens
		if j.state == runtime.BatchSucceeded {
			for i, req := range j.spec.Requests {
				f.mu.Unlock()
				resp, err := f.Generate(ctx, req)
				f.mu.Lock()
				j.results = append(j.results, runtime.BatchResult{Key: j.spec.Keys[i], Index: i, Resp: resp, Err: err})
			}
		}
	}
	return &runtime.BatchStatus{Name: name, DisplayName: j.spec.DisplayName, State: j.state, Total: len(j.spec.Keys)}, nil
}

func (f *fakeBatch) BatchResults(ctx context.Context, name string, keys []string) ([]runtime.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobs[name].results, nil
}

func (f *fakeBatch) CancelBatch(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j := f.jobs[name]; j != nil && !j.state.Done() {
		j.state = runtime.BatchCancelled
	}
	return nil
}

func (f *fakeBatch) ListBatches(ctx context.Context) ([]runtime.BatchStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runtime.BatchStatus
	for _, n := range f.order {
		out = append(out, runtime.BatchStatus{Name: n, DisplayName: f.jobs[n].spec.DisplayName, State: f.jobs[n].state})
	}
	return out, nil
}

func (f *fakeBatch) CleanupBatch(ctx context.Context, name string) error {
	f.mu.Lock()
	f.cleaned = append(f.cleaned, name)
	f.mu.Unlock()
	return nil
}

const batchPipeline = `
source docs {
  jsonl = "in.jsonl"
  id    = item.id
}
schema Out {
  n int
}
ladder l = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
step s {
  from   = docs
  models = l
  output = Out
  prompt = "number {{ item.id }}"
  batch  = true
  %s
}
sink out {
  from  = s
  jsonl = "out.jsonl"
}
`

func batchFiles(n int, extra string) map[string]string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"id\":\"d%03d\"}\n", i)
	}
	return map[string]string{"main.llmp": fmt.Sprintf(batchPipeline, extra), "in.jsonl": b.String()}
}

func batchOptions(p runtime.Provider) runtime.Options {
	o := options(p)
	o.Batches = runtime.BatchOptions{Poll: time.Millisecond, Linger: 5 * time.Millisecond, Name: "t"}
	o.Cost = func(model string, u runtime.Usage) runtime.Money {
		return runtime.Dollars(float64(u.PromptTokens+u.OutputTokens) / 1000)
	}
	return o
}

// Every first attempt goes into a job and is billed at half price; a reply
// that fails validation climbs online; every item ends exactly once.
func TestBatchFirstAttemptsThenOnline(t *testing.T) {
	prog := compile(t, batchFiles(40, ""))
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) {
		if strings.HasSuffix(req.Prompt, "7") && req.Model == "gemini-2.5-flash-lite" {
			return textReply(`{"n": "seven"}`), nil
		}
		return textReply(`{"n": 1}`), nil
	})
	sum, err := runtime.Run(context.Background(), prog, batchOptions(fb))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 40 || sum.Failed != 0 {
		t.Fatalf("succeeded %d failed %d", sum.Succeeded, sum.Failed)
	}
	if sum.BatchAnswered != 40 {
		t.Errorf("batch answered %d, want 40", sum.BatchAnswered)
	}
	// 40 batch calls at half of 15/1000, and 4 online calls on flash.
	online := 0
	for _, r := range fb.requests() {
		if r.Model == "gemini-2.5-flash" {
			online++
		}
	}
	if online != 4 {
		t.Errorf("online calls %d, want 4", online)
	}
	if want := 40*0.015/2 + 4*0.015; abs(sum.Cost-want) > 1e-9 {
		t.Errorf("cost %v, want %v", sum.Cost, want)
	}
	if got := len(readJSONL(t, filepath.Join(prog.Dir, "out.jsonl"))); got != 40 {
		t.Errorf("sink has %d records", got)
	}
	for k, n := range fb.byItem {
		if n != 1 {
			t.Errorf("%s in %d jobs", k, n)
		}
	}
	if len(fb.cleaned) != 0 {
		t.Errorf("files deleted without a store to commit to: %v", fb.cleaned)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// A job that fails, expires or is gone hands its items back: they finish
// online, none is lost.
func TestBatchFailedJobsHandItemsBack(t *testing.T) {
	for _, state := range []runtime.BatchState{runtime.BatchFailed, runtime.BatchExpired} {
		t.Run(string(state), func(t *testing.T) {
			prog := compile(t, batchFiles(25, "batch_size = 10"))
			fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
			fb.end = func(n int) runtime.BatchState {
				if n == 2 {
					return state
				}
				return runtime.BatchSucceeded
			}
			sum, err := runtime.Run(context.Background(), prog, batchOptions(fb))
			if err != nil {
				t.Fatal(err)
			}
			// The linger may cut jobs smaller on a slow machine: count the
			// failed job's items rather than assume its size.
			if len(sum.BatchJobs) < 3 || sum.BatchJobs[1].State != state {
				t.Fatalf("jobs %+v", sum.BatchJobs)
			}
			lost := sum.BatchJobs[1].Items
			if sum.Succeeded != 25 || sum.BatchAnswered != int64(25-lost) {
				t.Fatalf("succeeded %d, batch answered %d, %d items in the %s job", sum.Succeeded, sum.BatchAnswered, lost, state)
			}
		})
	}
}

// batch_retries = "batch" sends follow-ups into new jobs: nothing online.
func TestBatchRetriesInBatch(t *testing.T) {
	prog := compile(t, batchFiles(10, `batch_retries = "batch"`))
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) {
		if n == 1 && strings.HasSuffix(req.Prompt, "3") {
			return textReply(`not json`), nil
		}
		return textReply(`{"n": 1}`), nil
	})
	sum, err := runtime.Run(context.Background(), prog, batchOptions(fb))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 10 || sum.BatchAnswered != 11 {
		t.Fatalf("succeeded %d, batch answered %d", sum.Succeeded, sum.BatchAnswered)
	}
	if fb.byItem["d003"] != 2 {
		t.Errorf("d003 went into %d jobs, want 2", fb.byItem["d003"])
	}
}

// A low enqueued-token limit splits the work into jobs that wait for room:
// the service never holds more than the limit.
func TestBatchTokenLimitSplits(t *testing.T) {
	prog := compile(t, batchFiles(30, ""))
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
	fb.limit = 25 // each prompt is 3 tokens: 8 per job
	o := batchOptions(fb)
	o.Batches.Tokens = func(m *interp.Model) int { return 25 }
	sum, err := runtime.Run(context.Background(), prog, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 30 || sum.BatchAnswered != 30 {
		t.Fatalf("succeeded %d, batch answered %d", sum.Succeeded, sum.BatchAnswered)
	}
	if fb.created < 4 || fb.maxEnq > 25 {
		t.Fatalf("%d jobs, at most %d tokens enqueued", fb.created, fb.maxEnq)
	}
}

// A crash between create and the commit of the job's name: the next run
// finds the job by its display name and adopts it; no item goes into a
// second job, and every result arrives.
func TestBatchCrashAfterCreateIsAdopted(t *testing.T) {
	prog := compile(t, batchFiles(12, ""))
	dbPath := filepath.Join(prog.Dir, "s.db")
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
	ctx := context.Background()

	run := func(crash bool) *runtime.Summary {
		st, err := store.Open(ctx, dbPath, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		runtime.SetCrashAfterCreate(func() bool { return crash })
		defer runtime.SetCrashAfterCreate(nil)
		o := batchOptions(fb)
		o.Store = st
		o.Batches.Linger = 50 * time.Millisecond
		o.Batches.Poll = time.Hour // the first run must not poll before its "crash"
		if !crash {
			o.Batches.Poll = time.Millisecond
		}
		sum, err := runtime.Run(ctx, prog, o)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		return sum
	}
	first := run(true)
	if first.Succeeded != 0 || fb.created != 1 {
		t.Fatalf("first run: %d succeeded, %d jobs", first.Succeeded, fb.created)
	}
	second := run(false)
	if second.Succeeded != 12 {
		t.Fatalf("second run: %d succeeded", second.Succeeded)
	}
	// The first job was adopted: polled, answered and cleaned up, never
	// made again (items the crash kept out of it went into new jobs).
	if len(fb.cleaned) != fb.created || !slices.Contains(fb.cleaned, "batches/j1") {
		t.Errorf("created %d, cleaned %v", fb.created, fb.cleaned)
	}
	for k, n := range fb.byItem {
		if n != 1 {
			t.Errorf("%s in %d jobs", k, n)
		}
	}
}

// --batch says why it cannot run: the free tier has no batch quota, and
// Batch Mode takes only Gemini models.
func TestBatchRefusals(t *testing.T) {
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
	free := batchFiles(1, "")
	free["main.llmp"] += "config {\n  tier = free\n}\n"
	if _, err := runtime.New(compile(t, free), batchOptions(fb)); err == nil || !strings.Contains(err.Error(), "free tier") {
		t.Errorf("free tier: %v", err)
	}
	other := batchFiles(1, "")
	// A model outside the catalog needs a block with its prices (issue 14).
	other["main.llmp"] = strings.Replace(other["main.llmp"], `["gemini-2.5-flash-lite", "gemini-2.5-flash"]`, `[gpt, "gemini-2.5-flash"]`, 1) +
		"model gpt {\n  id           = \"gpt-4o-mini\"\n  input_price  = $0.15\n  output_price = $0.60\n}\n"
	if _, err := runtime.New(compile(t, other), batchOptions(fb)); err == nil || !strings.Contains(err.Error(), `"gpt-4o-mini", which is not a Gemini API model`) {
		t.Errorf("non-Gemini first rung: %v", err)
	}
	if _, err := runtime.New(compile(t, batchFiles(1, "")), batchOptions(&fb.fakeProvider)); err == nil || !strings.Contains(err.Error(), "no Batch Mode") {
		t.Errorf("provider without batch: %v", err)
	}
}

// A job still running at the deadline is cancelled and its items finish
// online; nothing is lost.
func TestBatchDeadlineHandsItemsBack(t *testing.T) {
	prog := compile(t, batchFiles(15, ""))
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
	fb.end = func(int) runtime.BatchState { return runtime.BatchRunning } // stuck
	o := batchOptions(fb)
	o.BatchDeadline = 30 * time.Millisecond
	sum, err := runtime.Run(context.Background(), prog, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 15 || sum.BatchAnswered != 0 {
		t.Fatalf("succeeded %d, batch answered %d", sum.Succeeded, sum.BatchAnswered)
	}
	for _, j := range sum.BatchJobs {
		if j.State != runtime.BatchCancelled {
			t.Errorf("job %s ended %s, want cancelled", j.Name, j.State)
		}
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for name, j := range fb.jobs {
		if j.state != runtime.BatchCancelled {
			t.Errorf("%s was not cancelled on the service: %s", name, j.state)
		}
	}
}

// A job the service no longer knows (404) hands its items back.
func TestBatchVanishedJob(t *testing.T) {
	prog := compile(t, batchFiles(8, ""))
	fb := newFakeBatch(func(req *runtime.Request, n int) (*runtime.Response, error) { return textReply(`{"n": 1}`), nil })
	fb.end = func(int) runtime.BatchState { return runtime.BatchRunning }
	o := batchOptions(fb)
	go func() {
		for {
			fb.mu.Lock()
			n := len(fb.jobs)
			if n > 0 {
				for k := range fb.jobs {
					delete(fb.jobs, k)
				}
				fb.mu.Unlock()
				return
			}
			fb.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	sum, err := runtime.Run(context.Background(), prog, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 8 || len(sum.BatchJobs) == 0 || sum.BatchJobs[0].State != runtime.BatchGone {
		t.Fatalf("succeeded %d, jobs %+v", sum.Succeeded, sum.BatchJobs)
	}
}
