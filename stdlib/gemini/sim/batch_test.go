package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// Batch tests use go-genai unchanged, as the client does, and raw HTTP
// only for what the SDK drops (Operation error, batchStats) or does not
// send (snake_case).

// fastBatches is a latency short enough for tests and long enough that a
// create's reply is still PENDING on a loaded machine.
const fastBatches = 300 * time.Millisecond

func jsonConfig() *genai.GenerateContentConfig {
	return &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseSchema: personSchema()}
}

func inlined(n int) []*genai.InlinedRequest {
	var out []*genai.InlinedRequest
	for i := range n {
		out = append(out, &genai.InlinedRequest{
			Contents: genai.Text(fmt.Sprintf("%s #%d", personPrompt, i)),
			Metadata: map[string]string{"key": fmt.Sprintf("item-%d", i)},
			Config:   jsonConfig(),
		})
	}
	return out
}

// waitJob polls until the job is terminal.
func waitJob(t *testing.T, c *genai.Client, name string) *genai.BatchJob {
	t.Helper()
	ctx := testCtx(t)
	for {
		j, err := c.Batches.Get(ctx, name, nil)
		if err != nil {
			t.Fatalf("Get(%s): %v", name, err)
		}
		switch j.State {
		case genai.JobStatePending, genai.JobStateRunning:
		default:
			return j
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s still %s", name, j.State)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestBatchInline(t *testing.T) {
	s := startSim(t, func(c *Config) { c.BatchLatency = fastBatches })
	c := newClient(t, s)
	ctx := testCtx(t)
	job, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(3)}, &genai.CreateBatchJobConfig{DisplayName: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(job.Name, "batches/") || job.State != genai.JobStatePending || job.DisplayName != "run-1" || job.Model != "models/"+flash {
		t.Fatalf("created %+v", job)
	}
	end := waitJob(t, c, job.Name)
	if end.State != genai.JobStateSucceeded || end.Dest == nil || len(end.Dest.InlinedResponses) != 3 {
		t.Fatalf("ended %+v", end)
	}
	for i, r := range end.Dest.InlinedResponses {
		if r.Metadata["key"] != fmt.Sprintf("item-%d", i) || r.Error != nil || r.Response == nil {
			t.Fatalf("response %d: %+v", i, r)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(r.Response.Text()), &v); err != nil || v["name"] == nil {
			t.Errorf("response %d: %q %v", i, r.Response.Text(), err)
		}
		if u := r.Response.UsageMetadata; u == nil || u.PromptTokenCount == 0 || u.CandidatesTokenCount == 0 {
			t.Errorf("response %d usage %+v", i, u)
		}
	}
	if end.EndTime.IsZero() || end.CreateTime.IsZero() {
		t.Errorf("times %+v", end)
	}

	// Cancel of an ended job changes nothing; delete removes it.
	if err := c.Batches.Cancel(ctx, job.Name, nil); err != nil {
		t.Fatal(err)
	}
	if j, _ := c.Batches.Get(ctx, job.Name, nil); j.State != genai.JobStateSucceeded {
		t.Errorf("after cancel: %s", j.State)
	}
	if _, err := c.Batches.Delete(ctx, job.Name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Batches.Get(ctx, job.Name, nil); apiError(t, err).Code != 404 {
		t.Errorf("get after delete: %v", err)
	}

	// One log line per batch call and one per inner request, with its key.
	var inner []LogEntry
	for _, e := range s.Log() {
		if e.Method == "BATCH" {
			inner = append(inner, e)
		}
	}
	if len(inner) != 3 {
		t.Fatalf("inner log lines %+v", inner)
	}
	for i, e := range inner {
		if e.Key != fmt.Sprintf("item-%d", i) || e.Item != e.Key || e.Batch != job.Name || e.Status != 200 || e.OutputTokens == 0 {
			t.Errorf("inner line %+v", e)
		}
	}
	if st := s.Stats(); st.Batch.Created != 1 || st.Batch.Succeeded != 1 || st.Batch.Deleted != 1 || st.Batch.Requests != 3 || st.Generate != 0 {
		t.Errorf("stats %+v generate %d", st.Batch, st.Generate)
	}
}

func TestBatchStatesOverTime(t *testing.T) {
	clk := newStepClock()
	s := startSim(t, func(c *Config) { c.BatchLatency = time.Hour; c.Clock = clk })
	c := newClient(t, s)
	ctx := testCtx(t)
	step := clk.step
	job, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step time.Duration
		want genai.JobState
	}{{0, genai.JobStatePending}, {29 * time.Minute, genai.JobStatePending}, {2 * time.Minute, genai.JobStateRunning}, {28 * time.Minute, genai.JobStateRunning}, {2 * time.Minute, genai.JobStateSucceeded}} {
		step(tc.step)
		j, err := c.Batches.Get(ctx, job.Name, nil)
		if err != nil || j.State != tc.want {
			t.Fatalf("after %v more: %v %v, want %s", tc.step, j.State, err, tc.want)
		}
	}
}

// stepClock is a batch clock that moves only when stepped; its timers
// never fire, so jobs change state only when a call reads them.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock { return &stepClock{now: time.Now()} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) NewTimer(time.Duration) clock.Timer { return idleTimer{} }

func (c *stepClock) step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type idleTimer struct{}

func (idleTimer) C() <-chan time.Time { return nil }
func (idleTimer) Reset(time.Duration) {}
func (idleTimer) Stop()               {}

func TestBatchFile(t *testing.T) {
	s := startSim(t, func(c *Config) { c.BatchLatency = fastBatches })
	c := newClient(t, s)
	ctx := testCtx(t)
	var in bytes.Buffer
	for i := range 4 {
		fmt.Fprintf(&in, `{"key":"k%d","request":{"contents":[{"role":"user","parts":[{"text":"%s %d"}]}],"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"name":{"type":"STRING"}},"required":["name"]}}}}`+"\n", i, personPrompt, i)
	}
	// A line the service refuses fails alone.
	in.WriteString(`{"key":"bad","request":{"contents":[]}}` + "\n")
	f, err := c.Files.Upload(ctx, bytes.NewReader(in.Bytes()), &genai.UploadFileConfig{MIMEType: "application/jsonl", DisplayName: "input"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Name, "files/") || f.SizeBytes == nil || *f.SizeBytes != int64(in.Len()) || f.State != genai.FileStateActive {
		t.Fatalf("uploaded %+v", f)
	}
	if g, err := c.Files.Get(ctx, f.Name, nil); err != nil || g.DisplayName != "input" || g.MIMEType != "application/jsonl" {
		t.Fatalf("get %+v %v", g, err)
	}
	job, err := c.Batches.Create(ctx, "models/"+flash, &genai.BatchJobSource{FileName: f.Name}, &genai.CreateBatchJobConfig{DisplayName: "file-run"})
	if err != nil {
		t.Fatal(err)
	}
	end := waitJob(t, c, job.Name)
	want := "files/batch-" + strings.TrimPrefix(job.Name, "batches/")
	if end.State != genai.JobStateSucceeded || end.Dest == nil || end.Dest.FileName != want {
		t.Fatalf("ended %+v dest %+v, want %s", end, end.Dest, want)
	}
	out, err := c.Files.Download(ctx, genai.NewDownloadURIFromFile(&genai.File{DownloadURI: end.Dest.FileName}), nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 5 {
		t.Fatalf("results:\n%s", out)
	}
	for i, l := range lines {
		var r struct {
			Key      string                         `json:"key"`
			Response *genai.GenerateContentResponse `json:"response"`
			Error    map[string]any                 `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if i == 4 {
			if r.Key != "bad" || r.Response != nil || r.Error["code"] != 3.0 || r.Error["details"] != nil || r.Error["message"] == "" {
				t.Errorf("failed line %s", l)
			}
			continue
		}
		if r.Key != fmt.Sprintf("k%d", i) || r.Response == nil || r.Response.Text() == "" {
			t.Errorf("line %s", l)
		}
	}
	// The guide's curl path serves the same bytes.
	resp, err := http.Get(s.URL() + "download/v1beta/" + want + ":download?alt=media")
	if err != nil {
		t.Fatal(err)
	}
	same, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(same, out) {
		t.Errorf("download path differs: %q", same)
	}
	// Uploads cannot be downloaded; go-genai returns the error body as data.
	if b, _ := c.Files.Download(ctx, genai.NewDownloadURIFromFile(&genai.File{DownloadURI: f.Name}), nil); !strings.Contains(string(b), "INVALID_ARGUMENT") {
		t.Errorf("download of an upload: %s", b)
	}
	for _, name := range []string{f.Name, want} {
		if _, err := c.Files.Delete(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Files.Get(ctx, name, nil); apiError(t, err).Code != 404 {
			t.Errorf("get after delete: %v", err)
		}
	}
	if st := s.Stats().Files; st.Uploaded != 1 || st.Generated != 1 || st.Deleted != 2 || st.Live != 0 {
		t.Errorf("file stats %+v", st)
	}
}

func TestBatchFailExpireCancel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		state genai.JobState
		code  int
	}{
		{"faile", func(c *Config) { c.BatchFail = 1 }, genai.JobStateFailed, 13},
		{"expire", func(c *Config) { c.BatchExpire = 1 }, genai.JobStateExpired, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, func(c *Config) { c.BatchLatency = fastBatches; tc.edit(c) })
			c := newClient(t, s)
			job, err := c.Batches.Create(testCtx(t), flash, &genai.BatchJobSource{InlinedRequests: inlined(2)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			end := waitJob(t, c, job.Name)
			if end.State != tc.state || (end.Dest != nil && len(end.Dest.InlinedResponses) > 0) {
				t.Fatalf("ended %+v", end)
			}
			op := rawGet(t, s, job.Name)
			if op["done"] != true || op["error"].(map[string]any)["code"] != float64(tc.code) || op["response"] != nil {
				t.Errorf("operation %v", op)
			}
			if n := s.Stats().Batch.Requests; n != 0 {
				t.Errorf("%d inner requests ran in a job that ended %s", n, end.State)
			}
			checkNotRun(t, s, job.Name, "batch:"+tc.name+"d", 2)
		})
	}
	t.Run("cancel", func(t *testing.T) {
		s := startSim(t, func(c *Config) {
			c.BatchLatency = time.Hour
			c.BatchEnqueuedTokens = map[string]int{"*": 200}
		})
		c := newClient(t, s)
		ctx := testCtx(t)
		job, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(2)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Batches.Cancel(ctx, job.Name, nil); err != nil {
			t.Fatal(err)
		}
		if j, _ := c.Batches.Get(ctx, job.Name, nil); j.State != genai.JobStateCancelled || j.EndTime.IsZero() {
			t.Fatalf("after cancel %+v", j)
		}
		checkNotRun(t, s, job.Name, "batch:cancelled", 2)
		// The cancelled job's tokens are free again.
		if _, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(2)}, nil); err != nil {
			t.Fatalf("create after cancel: %v", err)
		}
	})
}

// checkNotRun: every request of a job that ended without running them
// has one log line, status 0, with its key and the job's end as kind.
func checkNotRun(t *testing.T, s *Server, job, kind string, n int) {
	t.Helper()
	var keys []string
	for _, e := range s.Log() {
		if e.Method == "BATCH" && e.Batch == job {
			if e.Kind != kind || e.Status != 0 || e.Call != 0 {
				t.Errorf("log line %+v, want kind %s", e, kind)
			}
			keys = append(keys, e.Key)
		}
	}
	if len(keys) != n {
		t.Errorf("%d log lines for %s (%v), want %d", len(keys), job, keys, n)
	}
}

// rawGet returns a batch's Operation as JSON.
func rawGet(t *testing.T, s *Server, name string) map[string]any {
	t.Helper()
	resp, err := http.Get(s.URL() + "v1beta/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var op map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&op); err != nil {
		t.Fatal(err)
	}
	return op
}

func TestBatchEnqueuedTokens(t *testing.T) {
	clk := newStepClock()
	s := startSim(t, func(c *Config) {
		c.BatchLatency = time.Hour
		c.BatchEnqueuedTokens = map[string]int{flash: 90}
		c.Clock = clk
	})
	step := clk.step
	c := newClient(t, s)
	ctx := testCtx(t)
	// Each request is 33 tokens: two fit, three do not.
	first, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(2)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(1)}, nil)
	if e := apiError(t, err); e.Code != 429 || e.Status != "RESOURCE_EXHAUSTED" || detail(e, "QuotaFailure") == nil {
		t.Fatalf("second create: %+v", e)
	}
	// Other models have no limit.
	if _, err := c.Batches.Create(ctx, "gemini-2.5-pro", &genai.BatchJobSource{InlinedRequests: inlined(3)}, nil); err != nil {
		t.Fatal(err)
	}
	// One job alone over the limit never fits.
	if _, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(3)}, nil); err == nil {
		t.Fatal("a job over the limit by itself was accepted")
	}
	step(time.Hour)
	if j := waitJob(t, c, first.Name); j.State != genai.JobStateSucceeded {
		t.Fatalf("first job %s", j.State)
	}
	if _, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(1)}, nil); err != nil {
		t.Fatalf("create once the first job ended: %v", err)
	}
	if st := s.Stats().Batch; st.Rejected != 2 || st.Created != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestBatchList(t *testing.T) {
	s := startSim(t, func(c *Config) { c.BatchLatency = time.Hour })
	c := newClient(t, s)
	ctx := testCtx(t)
	var names []string
	for i := range 5 {
		j, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: inlined(1)}, &genai.CreateBatchJobConfig{DisplayName: fmt.Sprintf("run-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, j.Name)
	}
	p, err := c.Batches.List(ctx, &genai.ListBatchJobsConfig{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for _, j := range p.Items {
			got = append(got, j.DisplayName)
		}
		if p, err = p.Next(ctx); err == genai.ErrPageDone {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, ",") != "run-4,run-3,run-2,run-1,run-0" {
		t.Errorf("listed %v", got)
	}
	n := 0
	for j, err := range c.Batches.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if j.State != genai.JobStatePending {
			t.Errorf("%s %s", j.Name, j.State)
		}
		n++
	}
	if n != len(names) {
		t.Errorf("All gave %d jobs", n)
	}
}

// TestBatchSameAnswersAsOnline holds the invalid-answer draw and the reply
// to (seed, item, model, attempt): the same prompts sent online and in a
// job get the same texts and the same usage.
func TestBatchSameAnswersAsOnline(t *testing.T) {
	s := startSim(t, func(c *Config) {
		c.BatchLatency = fastBatches
		c.Invalid = map[string]float64{"*": 0.4}
	})
	c := newClient(t, s)
	reqs := inlined(30)
	online := map[string]*genai.GenerateContentResponse{}
	for _, r := range reqs {
		resp, err := generate(t, c, flash, r.Contents[0].Parts[0].Text, withItem(jsonConfig(), r.Metadata["key"]))
		if err != nil {
			t.Fatal(err)
		}
		online[r.Metadata["key"]] = resp
	}
	job, err := c.Batches.Create(testCtx(t), flash, &genai.BatchJobSource{InlinedRequests: reqs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := waitJob(t, c, job.Name)
	invalid := 0
	for _, r := range end.Dest.InlinedResponses {
		want := online[r.Metadata["key"]]
		bu, ou := r.Response.UsageMetadata, want.UsageMetadata
		if r.Response.Text() != want.Text() || bu.CandidatesTokenCount != ou.CandidatesTokenCount ||
			bu.PromptTokenCount != ou.PromptTokenCount || bu.ThoughtsTokenCount != ou.ThoughtsTokenCount {
			t.Errorf("%s: batch %q %+v, online %q %+v", r.Metadata["key"], r.Response.Text(), bu, want.Text(), ou)
		}
		if bu.ThoughtsTokenCount == 0 {
			t.Errorf("%s: no thinking tokens from a thinking model", r.Metadata["key"])
		}
		if json.Valid([]byte(r.Response.Text())) == false {
			invalid++
		}
	}
	for _, e := range s.Log() {
		if e.Method == "BATCH" && e.Call != 2 {
			t.Errorf("inner request %s is call %d, want 2 (after one online call)", e.Key, e.Call)
		}
	}
	if invalid == 0 {
		t.Error("no invalid answer at rate 0.4: the test shows nothing")
	}
}

// TestBatchFaultsAndScript: the fault and script settings reach the
// requests inside a job, as per-request errors without details.
func TestBatchFaultsAndScript(t *testing.T) {
	s := startSim(t, func(c *Config) {
		c.BatchLatency = fastBatches
		c.Fail = map[string]float64{Fault503: 0.5, FaultReset: 0.5}
		c.Script = []ScriptLine{{Item: "item-0", Text: `{"name":"Scripted"}`}, {Item: "item-1", Status: 429, RetryDelay: Duration(time.Second)}}
		c.Poison = []string{"item-2"}
	})
	c := newClient(t, s)
	job, err := c.Batches.Create(testCtx(t), flash, &genai.BatchJobSource{InlinedRequests: inlined(8)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := waitJob(t, c, job.Name)
	codes := map[int32]int{}
	for i, r := range end.Dest.InlinedResponses {
		switch {
		case i == 0:
			if r.Response == nil || r.Response.Text() != `{"name":"Scripted"}` {
				t.Errorf("scripted item: %+v", r)
			}
		case r.Error == nil || r.Error.Code == nil || len(r.Error.Details) != 0:
			t.Errorf("item %d: %+v", i, r)
		case i == 1 && *r.Error.Code != 8, i == 2 && *r.Error.Code != 3:
			t.Errorf("item %d: code %d", i, *r.Error.Code)
		default:
			codes[*r.Error.Code]++
		}
	}
	if codes[14] == 0 || codes[13] == 0 {
		t.Errorf("fault codes %v, want 14 (503) and 13 (reset)", codes)
	}
	op := rawGet(t, s, job.Name)
	stats := op["metadata"].(map[string]any)["batchStats"].(map[string]any)
	if stats["requestCount"] != "8" || stats["successfulRequestCount"] != "1" || stats["failedRequestCount"] != "7" {
		t.Errorf("batchStats %v", stats)
	}
}

// TestBatchCloseStopsScheduler: Close returns with jobs still pending and
// leaves no goroutine behind (the scheduler exits).
func TestBatchCloseStopsScheduler(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BatchLatency = time.Hour
	cfg.KeepLog = true
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)
	if _, err := c.Batches.Create(testCtx(t), flash, &genai.BatchJobSource{InlinedRequests: inlined(1)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.batchesDone:
	default:
		t.Fatal("scheduler still running after Close")
	}
	checkNotRun(t, s, s.Log()[0].Batch, "batch:unfinished", 1)
}

// TestBatchNoOnlineQuota: RPM does not limit a job's requests, and they
// do not use up the online quota.
func TestBatchNoOnlineQuota(t *testing.T) {
	s := startSim(t, func(c *Config) {
		c.BatchLatency = fastBatches
		c.RPM = map[string]int{"*": 1}
	})
	c := newClient(t, s)
	job, err := c.Batches.Create(testCtx(t), flash, &genai.BatchJobSource{InlinedRequests: inlined(5)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range waitJob(t, c, job.Name).Dest.InlinedResponses {
		if r.Error != nil {
			t.Errorf("%s: %+v", r.Metadata["key"], r.Error)
		}
	}
	if _, err := generate(t, c, flash, "hello", nil); err != nil {
		t.Errorf("online call after the job: %v", err)
	}
}

// TestBatchCachedContent: a job's request may name a cache; its usage
// reports the cached tokens as online, and a cache gone by the time the
// job runs fails that request alone (code 7).
func TestBatchCachedContent(t *testing.T) {
	clk := newStepClock()
	s := startSim(t, func(c *Config) {
		c.BatchLatency = time.Hour
		c.MinCacheTokens = 1
		c.Clock = clk
	})
	step := clk.step
	c := newClient(t, s)
	ctx := testCtx(t)
	cache, err := c.Caches.Create(ctx, flash, &genai.CreateCachedContentConfig{
		Contents: genai.Text(strings.Repeat("A long shared context. ", 40)), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reqs := inlined(2)
	reqs[1].Config.CachedContent = cache.Name
	reqs[0].Config.CachedContent = "cachedContents/gone"
	job, err := c.Batches.Create(ctx, flash, &genai.BatchJobSource{InlinedRequests: reqs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	step(time.Hour)
	out := waitJob(t, c, job.Name).Dest.InlinedResponses
	if e := out[0].Error; e == nil || *e.Code != 7 {
		t.Errorf("missing cache: %+v", out[0])
	}
	if r := out[1].Response; r == nil || r.UsageMetadata.CachedContentTokenCount == 0 || r.UsageMetadata.PromptTokenCount <= r.UsageMetadata.CachedContentTokenCount {
		t.Errorf("cached request: %+v", out[1])
	}
}
