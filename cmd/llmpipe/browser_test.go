package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "keep one screenshot of each web view page in docs/screenshots")

// browserPipeline extracts people; every person older than 60 fails the
// age check on every rung, so the run has failed items whose retries
// carried the feedback below.
const browserPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string "full name"
  age  int    "age in years"
}

ladder cheap_first = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]

step extract {
  from   = people
  models = cheap_first
  output = Person
  system = "You extract structured data. Answer with JSON only."
  prompt = "Extract the person: {{ item.text }}"
  check age "must be 60 or younger": output.age <= 60
  retry {
    attempts       = 3
    escalate_after = 1
    backoff        = 1ms .. 2ms
    feedback = "BROWSER-FEEDBACK: fix {{ for f in failed }}{{ f.field }} ({{ f.message }}) {{ end }}and answer again."
  }
}

sink out {
  from  = extract
  jsonl = "out/people.jsonl"
}

config {
  workers = 2
}
`

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken"}

// chromium finds Debian's browser. Without one the browser tests skip, but
// in CI (CI=true) they fail: .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: the browser tests need it in CI (.ci/run installs the chromium package)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); the browser tests are skipped")
	return ""
}

// lockedBuffer is a bytes.Buffer safe to write from the command and read
// from the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrowser drives the web view of a live simulated run in Chromium: the
// overview's counts move while the run goes, the items page filters to the
// failed items, and an item's page shows its failed check's message and
// the feedback that was sent back.
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	var people strings.Builder
	for i := range 400 {
		age := 20 + (i*7)%70 // a third are over 60
		fmt.Fprintf(&people, `{"id":"p%03d","text":"%s Number%d is %d years old."}`+"\n", i, firstNames[i%len(firstNames)], i, age)
	}
	for name, body := range map[string]string{"job.llmp": browserPipeline, "people.jsonl": people.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The run: 2 workers, 100 ms a call, about 550 calls: half a minute,
	// cancelled once the browser has seen what it came for.
	runCtx, stopRun := context.WithCancel(context.Background())
	var stderr, stdout lockedBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- run(runCtx, []string{"run", filepath.Join(dir, "job.llmp"), "--sim", "--sim-latency", "100ms",
			"--sim-latency-sigma", "0", "--ui=127.0.0.1:0", "--quiet"}, strings.NewReader(""), &stdout, &stderr)
	}()
	defer func() {
		stopRun()
		select {
		case <-runDone:
		case <-time.After(30 * time.Second):
			t.Error("the run did not stop after its context was cancelled")
		}
	}()
	urlRE := regexp.MustCompile(`web view at (http://127\.0\.0\.1:\d+/)`)
	waitFor(t, 30*time.Second, "the web view's URL on stderr", func() bool { return urlRE.MatchString(stderr.String()) })
	base := urlRE.FindStringSubmatch(stderr.String())[1]

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // root in CI
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 50*time.Second)
	defer cancel()

	shots := t.TempDir()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if *updateScreenshots {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", "web-"+name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Overview: the done count moves while the page is open (live update,
	// no reload).
	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitVisible(`#done`)); err != nil {
		t.Fatalf("opening the overview: %v", err)
	}
	// Read through the page's own DOM in one step: the live refresh swaps
	// the overview's nodes at any moment.
	const doneJS = `(document.getElementById('done') || {}).textContent || ''`
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](doneJS))
	if err != nil {
		t.Fatalf("reading the done count: %v", err)
	}
	live, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#overview[data-live]')`))
	if err != nil || !live {
		t.Fatalf("the overview of a running run is not live (%v)", err)
	}
	waitFor(t, 30*time.Second, "the done count to move from "+first, func() bool {
		now, err := chromedp.Run(ctx, chromedp.Evaluate[string](doneJS))
		if err != nil {
			t.Fatalf("reading the done count: %v", err)
		}
		return now != "" && now != first
	})
	// Wait for a failed item to show in the steps table, so the filter
	// below has something to find.
	waitFor(t, 30*time.Second, "a failed item", func() bool {
		failed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#steps a[data-k=failed]') || {}).textContent || '0'`))
		if err != nil {
			t.Fatalf("reading the failed count: %v", err)
		}
		return failed != "0"
	})
	shot("overview")

	// Items: filter to the failed ones with the form.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"items"),
		chromedp.WaitVisible(`form.filters`),
		chromedp.SetValue(`select[name=outcome]`, "failed"),
		chromedp.Click(`form.filters button[type=submit]`),
	); err != nil {
		t.Fatalf("filtering to failed items: %v", err)
	}
	// The unfiltered page has failed rows too: wait until the browser is on
	// the filtered page before reading its rows.
	waitFor(t, 30*time.Second, "the filtered page", func() bool {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.search.includes('outcome=failed') && document.readyState === 'complete'`))
		return err == nil && ready
	})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#items tbody tr.failed`)); err != nil {
		t.Fatalf("waiting for the failed rows: %v", err)
	}
	outcomes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#items tbody tr')).map(r => r.className)`))
	if err != nil {
		t.Fatalf("reading the items table: %v", err)
	}
	for _, o := range outcomes {
		if o != "failed" {
			t.Errorf("the failed filter shows a %q row", o)
		}
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "outcome=failed") {
		t.Errorf("filtered URL = %q (%v), want outcome=failed in it", loc, err)
	}
	shot("items")

	// One failed item: its check's message and the feedback sent back.
	if err := chromedp.Do(ctx,
		chromedp.Click(`#items tbody tr.failed td a`),
		chromedp.WaitVisible(`pre.feedback`),
	); err != nil {
		t.Fatalf("opening a failed item: %v", err)
	}
	checks, err := chromedp.Run(ctx, chromedp.Text(`ul.checks li.fail`))
	if err != nil {
		t.Fatalf("reading the checks: %v", err)
	}
	feedback, err := chromedp.Run(ctx, chromedp.Text(`pre.feedback`))
	if err != nil {
		t.Fatalf("reading the feedback: %v", err)
	}
	if !strings.Contains(checks, "age") || !strings.Contains(checks, "must be 60 or younger") {
		t.Errorf("failed check shown as %q", checks)
	}
	if !strings.Contains(feedback, "BROWSER-FEEDBACK: fix age (must be 60 or younger)") {
		t.Errorf("feedback shown as %q", feedback)
	}
	shot("item")

	// The run history.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"runs"), chromedp.WaitVisible(`#runs`)); err != nil {
		t.Fatalf("opening the runs page: %v", err)
	}
	runs, err := chromedp.Run(ctx, chromedp.Text(`#runs tbody`))
	if err != nil {
		t.Fatalf("reading the runs page: %v", err)
	}
	if !strings.Contains(runs, "#1") {
		t.Errorf("runs page shows %q, want run #1", runs)
	}
	shot("runs")

	// The same path with JavaScript off, in a second tab: everything but
	// the live refresh is plain HTML, a GET form and links.
	tab, closeTab := chromedp.NewContext(bctx)
	defer closeTab()
	noJS := chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
	tctx, cancelTab := context.WithTimeout(tab, 30*time.Second)
	defer cancelTab()
	if err := chromedp.Do(tctx,
		noJS,
		chromedp.Navigate(base),
		chromedp.WaitVisible(`#steps`),
		chromedp.Navigate(base+"items"),
		chromedp.SetValue(`select[name=outcome]`, "failed"),
		chromedp.SetValue(`select[name=check]`, "age"),
		chromedp.Click(`form.filters button[type=submit]`),
		chromedp.WaitVisible(`#items tbody tr.failed`),
		chromedp.Click(`#items tbody tr.failed td a`),
		chromedp.WaitVisible(`pre.feedback`),
	); err != nil {
		t.Fatalf("the filter-and-open path without JavaScript: %v", err)
	}
	feedback, err = chromedp.Run(tctx, chromedp.Text(`pre.feedback`))
	if err != nil || !strings.Contains(feedback, "BROWSER-FEEDBACK") {
		t.Errorf("without JavaScript the item page shows feedback %q (%v)", feedback, err)
	}
}
