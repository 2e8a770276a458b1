package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/store"
	"github.com/llmpipe/llmpipe/stdlib/web"
)

// pipelineSrc has one step whose check the simulator's replies fail: the
// reply never contains "Z", so every item fails after three attempts, each
// retry carrying the feedback below.
const pipelineSrc = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

step greet {
  from   = people
  models = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
  prompt = "Say hello to {{ item.name }}."
  check shout "must contain the letter Z": text contains "ZZZ-never-said"
  retry {
    attempts       = 3
    escalate_after = 2
    backoff        = 1ms .. 2ms
    feedback = "FEEDBACK-MARK: fix {{ for f in failed }}{{ f.field }} ({{ f.message }}){{ end }}"
  }
}

sink out {
  from  = greet
  jsonl = "out/greet.jsonl"
}
`

const secret = "sk-test-SECRET-do-not-show-0123456789"

// fixture runs the pipeline over n items against an in-process simulator
// whose client carries secret as its API key, and opens the store
// read-only, as serve does.
func fixture(t *testing.T, n int) (*llmpipe.Pipeline, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	var items strings.Builder
	for i := range n {
		items.WriteString(`{"id":"p` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `","name":"N` + string(rune('a'+i%26)) + `"}` + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte(items.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "main.llmp")
	if err := os.WriteFile(path, []byte(pipelineSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := llmpipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := sim.DefaultConfig()
	srv, err := sim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("GEMINI_API_KEY", secret)
	prov, err := gemini.New(ctx, gemini.Options{APIKey: secret, BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, llmpipe.RunOptions{Provider: prov, Settings: runtime.Settings{Args: []string{"run", "main.llmp", "--api-key=" + secret}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != int64(n) {
		t.Fatalf("%d items failed, want all %d", sum.Failed, n)
	}
	s, err := store.Open(ctx, p.DefaultStorePath(), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return p, s
}

func newServer(t *testing.T, p *llmpipe.Pipeline, s *store.Store) *httptest.Server {
	t.Helper()
	srv, err := web.New(web.Options{Store: s, Program: p.Program, Pipeline: p.Name()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ts *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, ts *httptest.Server, path string, v any) {
	t.Helper()
	code, body := get(t, ts, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func TestAPI(t *testing.T) {
	p, s := fixture(t, 30)
	ts := newServer(t, p, s)

	var sum web.Summary
	getJSON(t, ts, "/api/summary", &sum)
	if len(sum.Steps) != 1 || sum.Steps[0].Step != "greet" || sum.Steps[0].Failed != 30 || sum.Steps[0].Done != 0 {
		t.Errorf("summary steps = %+v, want greet with 30 failed", sum.Steps)
	}
	if sum.Run == nil || sum.Run.Running || sum.Run.Summary == nil || sum.Run.Summary.Failed != 30 {
		t.Errorf("summary run = %+v, want the finished run with 30 failed", sum.Run)
	}

	var runs web.RunsView
	getJSON(t, ts, "/api/runs", &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Summary == nil {
		t.Fatalf("runs = %+v, want one finished run", runs)
	}

	var page store.ItemPage
	getJSON(t, ts, "/api/items?step=greet&outcome=failed&check=shout&page_size=20", &page)
	if page.Matches != 30 || len(page.Items) != 20 || !page.More || page.Page != 1 {
		t.Errorf("failed page 1: %d matches, %d items, more %v, page %d; want 30, 20, true, 1", page.Matches, len(page.Items), page.More, page.Page)
	}
	for _, it := range page.Items {
		if it.Outcome != "failed" || it.Check != "shout" || it.Rung != 1 {
			t.Errorf("item %+v: want failed on check shout at rung 1", it)
		}
	}
	getJSON(t, ts, "/api/items?step=greet&outcome=failed&page_size=20&page=2", &page)
	if len(page.Items) != 10 || page.More {
		t.Errorf("failed page 2: %d items, more %v; want 10, false", len(page.Items), page.More)
	}
	getJSON(t, ts, "/api/items?outcome=ok", &page)
	if page.Matches != 0 {
		t.Errorf("ok items: %d, want 0", page.Matches)
	}
	getJSON(t, ts, "/api/items?prefix=pb&rung=1", &page)
	if len(page.Items) != 2 || page.Items[0].Item != "pb" || page.Items[1].Item != "pbx" {
		t.Errorf("prefix pb: %+v, want pb and pbx", page.Items)
	}
	if code, body := get(t, ts, "/api/items?outcome=maybe"); code != http.StatusBadRequest || !strings.Contains(body, "maybe") {
		t.Errorf("bad outcome: %d %s", code, body)
	}

	var item web.ItemView
	getJSON(t, ts, "/api/items/pc", &item)
	if len(item.Steps) != 1 {
		t.Fatalf("item steps = %+v", item.Steps)
	}
	st := item.Steps[0]
	if st.Result == nil || st.Result.Outcome != "failed" || st.Result.Class != "check_failed" || !st.Result.Current {
		t.Errorf("result = %+v, want a current check_failed failure", st.Result)
	}
	if len(st.Attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(st.Attempts))
	}
	for i, a := range st.Attempts {
		if a.Verdict != "check_failed" || len(a.Checks) != 1 || a.Checks[0].Passed || a.Checks[0].Message != "must contain the letter Z" {
			t.Errorf("attempt %d: verdict %q checks %+v; want check_failed with shout failed", i+1, a.Verdict, a.Checks)
		}
		if !strings.Contains(a.User, "Say hello to Nc.") || strings.Contains(a.User, "FEEDBACK-MARK") {
			t.Errorf("attempt %d: user prompt %q", i+1, a.User)
		}
		wantFB := i > 0
		if got := strings.Contains(a.Feedback, "FEEDBACK-MARK: fix shout (must contain the letter Z)"); got != wantFB {
			t.Errorf("attempt %d: feedback %q", i+1, a.Feedback)
		}
		if a.Reply == "" || a.Model == "" {
			t.Errorf("attempt %d: no reply or model: %+v", i+1, a)
		}
	}
	if code, _ := get(t, ts, "/api/items/nobody"); code != http.StatusNotFound {
		t.Errorf("unknown item: %d, want 404", code)
	}
}

// TestPagesWithoutJavaScript reads the pages as a browser without
// JavaScript would: everything is in the HTML, filters are a GET form and
// paging is links.
func TestPagesWithoutJavaScript(t *testing.T) {
	p, s := fixture(t, 30)
	ts := newServer(t, p, s)

	_, body := get(t, ts, "/")
	for _, want := range []string{`id="steps"`, ">greet<", ">30<", "Runs", "gemini-2.5-flash-lite"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "live.js") {
		t.Error("overview of a finished run loads the live-update script")
	}

	_, body = get(t, ts, "/items?"+url.Values{"step": {"greet"}, "outcome": {"failed"}, "page_size": {"25"}}.Encode())
	for _, want := range []string{`<form class="filters" method="get" action="/items">`, `name="outcome"`, `name="rung"`,
		`name="check"`, `name="prefix"`, `href="/items/pa"`, "must contain the letter Z", `rel="next"`} {
		if !strings.Contains(body, want) {
			t.Errorf("items page lacks %q", want)
		}
	}

	_, body = get(t, ts, "/items/pa")
	for _, want := range []string{"must contain the letter Z", "FEEDBACK-MARK: fix shout (must contain the letter Z)", "Say hello to Na.",
		"check_failed", "attempt 3", "pipeline version"} {
		if !strings.Contains(body, want) {
			t.Errorf("item page lacks %q", want)
		}
	}

	_, body = get(t, ts, "/runs")
	if !strings.Contains(body, "#1") || !strings.Contains(body, "completed") {
		t.Errorf("runs page lacks run #1:\n%s", body)
	}
}

// TestNoSecrets: the run's API key was in the environment, in the client
// and on the command line; no page and no API answer may show it.
func TestNoSecrets(t *testing.T) {
	p, s := fixture(t, 3)
	ts := newServer(t, p, s)
	for _, path := range []string{"/", "/?part=body", "/items", "/items?outcome=failed", "/items/pa", "/runs",
		"/api/summary", "/api/runs", "/api/items", "/api/items/pa", "/static/live.js", "/static/style.css"} {
		code, body := get(t, ts, path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
		if strings.Contains(body, secret) || strings.Contains(body, "SECRET") {
			t.Errorf("GET %s shows the API key", path)
		}
		if path == "/runs" && !strings.Contains(body, "--api-key=REDACTED") {
			t.Errorf("runs page does not show the redacted flag")
		}
	}
}

func TestListenRefusesRemote(t *testing.T) {
	if _, _, err := web.Listen("0.0.0.0:0", false); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("Listen(0.0.0.0) = %v, want a refusal naming --allow-remote", err)
	}
	ln, warning, err := web.Listen("0.0.0.0:0", true)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if warning == "" {
		t.Error("no warning for a remote address")
	}
	ln, warning, err = web.Listen("127.0.0.1:0", false)
	if err != nil || warning != "" {
		t.Fatalf("loopback: %v, %q", err, warning)
	}
	if u := web.URL(ln); !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("URL = %q", u)
	}
	ln.Close()
}

// TestRunsShowBatchJobs: the run history lists the store's batch jobs with
// their states.
func TestRunsShowBatchJobs(t *testing.T) {
	p, s := fixture(t, 2)
	ctx := context.Background()
	w, err := store.Open(ctx, p.DefaultStorePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &runtime.BatchJob{RunID: 1, Step: "greet", Model: "gemini-2.5-flash", DisplayName: "llmpipe-main-greet-1",
		Name: "batches/abc123", State: runtime.BatchRunning, Created: time.Now(),
		Items: []runtime.BatchItem{{Item: "pa", Key: "k1", RequestKey: "r1"}, {Item: "pb", Key: "k2", RequestKey: "r2"}}}
	if err := w.AddBatchJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, p, s)
	var runs web.RunsView
	getJSON(t, ts, "/api/runs", &runs)
	if len(runs.BatchJobs) != 1 || runs.BatchJobs[0].Name != "batches/abc123" || runs.BatchJobs[0].State != "running" || runs.BatchJobs[0].Items != 2 {
		t.Errorf("batch jobs = %+v, want batches/abc123 running with 2 items", runs.BatchJobs)
	}
	_, body := get(t, ts, "/runs")
	if !strings.Contains(body, `id="batch-jobs"`) || !strings.Contains(body, "batches/abc123") || !strings.Contains(body, ">running<") {
		t.Errorf("runs page does not list the batch job")
	}
}

// TestStalledRun: serving a store, a run that never ended is live while it
// makes calls, and stalled (not running) once it has made none for minutes.
func TestStalledRun(t *testing.T) {
	p, s := fixture(t, 1)
	ctx := context.Background()
	w, err := store.Open(ctx, p.DefaultStorePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	id, err := w.BeginRun(ctx, runtime.RunInfo{Pipeline: "main.llmp", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LogAttempt(ctx, &runtime.Attempt{RunID: id, Step: "greet", Item: "pz", Attempt: 1, Model: "m", Status: "ok", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now     time.Time
		running bool
	}{{t0.Add(2 * time.Minute), true}, {t0.Add(10 * time.Minute), false}} {
		srv, err := web.New(web.Options{Store: s, Program: p.Program, Pipeline: p.Name(), Now: func() time.Time { return tc.now }})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		var sum web.Summary
		getJSON(t, ts, "/api/summary", &sum)
		if sum.Run == nil || sum.Run.ID != id || sum.Run.Running != tc.running || sum.Live != tc.running || sum.Run.Stalled == tc.running {
			t.Errorf("at +%s: run %+v live %v; want running %v", tc.now.Sub(t0), sum.Run, sum.Live, tc.running)
		}
		var runs web.RunsView
		getJSON(t, ts, "/api/runs", &runs)
		if len(runs.Runs) != 2 || runs.Runs[0].Running != tc.running || runs.Runs[1].Running {
			t.Errorf("at +%s: runs %+v", tc.now.Sub(t0), runs.Runs)
		}
		ts.Close()
	}
}
