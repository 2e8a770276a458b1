package sim

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genai"
)

func quotaViolation(t *testing.T, e genai.APIError) map[string]any {
	t.Helper()
	qf := detail(e, "QuotaFailure")
	if qf == nil {
		t.Fatalf("no QuotaFailure in %+v", e.Details)
	}
	vs, _ := qf["violations"].([]any)
	if len(vs) == 0 {
		t.Fatalf("no violations in %+v", qf)
	}
	return vs[0].(map[string]any)
}

func retryDelay(t *testing.T, e genai.APIError) time.Duration {
	t.Helper()
	ri := detail(e, "RetryInfo")
	s, _ := ri["retryDelay"].(string)
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("retryDelay %q: %v", s, err)
	}
	return d
}

func TestQuota429Body(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(*Config)
		calls    int
		quotaID  string
		value    string
		minDelay time.Duration
		maxDelay time.Duration
	}{
		{"rpm", func(c *Config) { c.RPM = map[string]int{flash: 2} }, 3, "GenerateRequestsPerMinutePerProjectPerModel", "2", time.Millisecond, 10 * time.Second},
		{"tpm", func(c *Config) { c.TPM = map[string]int{"*": 40} }, 2, "GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier1", "40", time.Millisecond, 10 * time.Second},
		// A daily 429 carries the short "36s" scaled to the window: 6s.
		{"rpd", func(c *Config) { c.RPD = map[string]int{flash: 1} }, 2, "GenerateRequestsPerDayPerProjectPerModel", "1", 6 * time.Second, 6 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, func(c *Config) { c.Window = 10 * time.Second; tc.edit(c) })
			c := newClient(t, s)
			prompt := strings.Repeat("a", 100) // 25 tokens
			var err error
			for i := 0; i < tc.calls; i++ {
				_, err = generate(t, c, flash, prompt, nil)
				if i < tc.calls-1 && err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
			}
			e := apiError(t, err)
			if e.Code != 429 || e.Status != "RESOURCE_EXHAUSTED" {
				t.Fatalf("got %+v", e)
			}
			v := quotaViolation(t, e)
			dims, _ := v["quotaDimensions"].(map[string]any)
			if v["quotaId"] != tc.quotaID || v["quotaValue"] != tc.value || dims["model"] != flash || dims["location"] != "global" {
				t.Errorf("violation %+v", v)
			}
			if d := retryDelay(t, e); d < tc.minDelay || d > tc.maxDelay {
				t.Errorf("retryDelay %v, want in [%v, %v]", d, tc.minDelay, tc.maxDelay)
			}
			if detail(e, "Help") == nil {
				t.Error("no Help detail")
			}
			if got := s.Stats().Rejected[flash][tc.name]; got != 1 {
				t.Errorf("Rejected[%s][%s] = %d, want 1", flash, tc.name, got)
			}
			// Another model has its own quota (unless "*").
			if tc.name != "tpm" {
				if _, err := generate(t, c, "gemini-2.5-pro", prompt, nil); err != nil {
					t.Errorf("other model: %v", err)
				}
			}
		})
	}
}

func TestQuotaNoRetryAfterHeader(t *testing.T) {
	s := startSim(t, func(c *Config) { c.RPM = map[string]int{flash: 1} })
	var last *http.Response
	for range 2 {
		resp, err := http.Post(s.URL()+"v1beta/models/"+flash+":generateContent", "application/json",
			strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		last = resp
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") != "" {
		t.Errorf("status %d, Retry-After %q: want 429 and none", last.StatusCode, last.Header.Get("Retry-After"))
	}
}

// TestQuotaModes drives each mode well past its limit and checks, from the
// server's own log, that admissions never exceed the limit.
func TestQuotaModes(t *testing.T) {
	const (
		limit  = 8
		tlimit = 400
		window = 120 * time.Millisecond
		runFor = 6 * window
	)
	for _, mode := range []string{ModeWindow, ModeSliding, ModeBucket} {
		for _, axis := range []string{AxisRPM, AxisTPM} {
			t.Run(mode+"/"+axis, func(t *testing.T) {
				t.Parallel()
				s := startSim(t, func(c *Config) {
					c.LimitMode, c.Window = mode, window
					if axis == AxisRPM {
						c.RPM = map[string]int{flash: limit}
					} else {
						c.TPM = map[string]int{flash: tlimit}
					}
				})
				c := newClient(t, s)
				// Run for runFor and until enough 429s show the limit was
				// pushed (a loaded machine may need longer), at most 4s.
				start := time.Now()
				var rejected atomic.Int64
				var wg sync.WaitGroup
				for g := range 3 {
					wg.Go(func() {
						for i := 0; ; i++ {
							el := time.Since(start)
							if el > 4*time.Second || el > runFor && rejected.Load() >= 5 {
								return
							}
							// 20-59 tokens each.
							prompt := strings.Repeat("x", 80+4*((g*7+i)%40))
							if _, err := generate(t, c, flash, prompt, nil); err != nil {
								rejected.Add(1)
							}
							time.Sleep(4 * time.Millisecond)
						}
					})
				}
				wg.Wait()
				runFor := time.Since(start)

				var acc []LogEntry
				maxTok := 0
				for _, e := range s.Log() {
					if e.Accepted {
						acc = append(acc, e)
						maxTok = max(maxTok, e.PromptTokens)
					}
				}
				// The log is in completion order; the check needs admission order.
				sort.Slice(acc, func(i, j int) bool { return acc[i].Time.Before(acc[j].Time) })
				st := s.Stats()
				if st.Rejected[flash][axis] == 0 {
					t.Fatalf("no %s 429s: the test did not push past the limit", axis)
				}
				// Slack: bucket mode allows its burst (1 unit here, the
				// 1/60 fraction rounds down) plus, for tokens, one request
				// admitted on a full bucket.
				lim := limit
				if axis == AxisTPM {
					lim = tlimit
					if mode == ModeBucket {
						lim += maxTok + tlimit/60
					}
				} else if mode == ModeBucket {
					lim++
				}
				amount := func(e LogEntry) int {
					if axis == AxisTPM {
						return e.PromptTokens
					}
					return 1
				}
				sum := 0
				for i, w := range st.Accepted[flash] {
					got := int(w.Requests)
					if axis == AxisTPM {
						got = int(w.Tokens)
					}
					sum += got
					if got > lim {
						t.Errorf("window %d admitted %d, limit %d", i, got, lim)
					}
				}
				if mode == ModeSliding { // any window-long interval
					for i := range acc {
						n := 0
						for j := i; j < len(acc) && acc[j].Time.Sub(acc[i].Time) < window; j++ {
							n += amount(acc[j])
						}
						if n > lim {
							t.Errorf("%d admitted within %v of %v", n, window, acc[i].Time)
							break
						}
					}
				}
				// Throughput is checked with a stepped clock in
				// TestQuotaThroughput; here only that the limit was usable.
				if sum < lim {
					t.Errorf("admitted %d over %v, want at least one window's %d", sum, runFor, lim)
				}
			})
		}
	}
}

func TestRejectCounts(t *testing.T) {
	for _, mode := range []string{ModeWindow, ModeSliding, ModeBucket} {
		for _, counts := range []bool{false, true} {
			t.Run(fmt.Sprint(mode, counts), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.LimitMode, cfg.Window, cfg.RejectCounts = mode, time.Second, counts
				cfg.RPM = map[string]int{"m": 1}
				start := time.Unix(1e9, 0)
				now := start
				q := newQuotas(&cfg, start)
				q.clock = func() time.Time { return now }
				admitted := func() bool { _, vs := q.admit("m", 1); return len(vs) == 0 }
				if !admitted() {
					t.Fatal("first call rejected")
				}
				now = now.Add(900 * time.Millisecond)
				if admitted() {
					t.Fatal("second call within the window admitted")
				}
				// The first call has aged out; a counted rejection (900ms)
				// still holds the quota, except in a fixed window, which
				// resets regardless.
				now = now.Add(200 * time.Millisecond)
				want := !counts || mode == ModeWindow
				if got := admitted(); got != want {
					t.Errorf("third call admitted = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestCachedCountTPM(t *testing.T) {
	for _, counts := range []bool{false, true} {
		t.Run(fmt.Sprint(counts), func(t *testing.T) {
			s := startSim(t, func(c *Config) {
				c.TPM, c.CachedCountTPM, c.MinCacheTokens = map[string]int{flash: 50}, counts, 10
			})
			c := newClient(t, s)
			cc, err := c.Caches.Create(testCtx(t), flash, &genai.CreateCachedContentConfig{SystemInstruction: bigSystem(200)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = generate(t, c, flash, "hello", &genai.GenerateContentConfig{CachedContent: cc.Name})
			if counts != (err != nil) {
				t.Errorf("cached tokens count=%v: err %v", counts, err)
			}
		})
	}
}

// TestQuotaThroughput steps a fake clock through ten windows with a request
// every millisecond and checks each mode admits close to the limit and
// never more than it allows.
func TestQuotaThroughput(t *testing.T) {
	const window = time.Second
	for _, mode := range []string{ModeWindow, ModeSliding, ModeBucket} {
		for _, axis := range []string{AxisRPM, AxisTPM} {
			t.Run(mode+"/"+axis, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.LimitMode, cfg.Window = mode, window
				limit, cost := 100, 1
				if axis == AxisRPM {
					cfg.RPM = map[string]int{"m": limit}
				} else {
					limit, cost = 5000, 30
					cfg.TPM = map[string]int{"m": limit}
				}
				start := time.Unix(1e9, 0)
				now := start
				q := newQuotas(&cfg, start)
				q.clock = func() time.Time { return now }
				perWindow := map[int64]int{}
				var times []time.Duration
				total := 0
				for now.Before(start.Add(10 * window)) {
					if _, vs := q.admit("m", cost); len(vs) == 0 {
						total += cost
						perWindow[int64(now.Sub(start)/window)] += cost
						times = append(times, now.Sub(start))
					} else if vs[0].retry <= 0 || vs[0].retry > window {
						t.Fatalf("retry %v at %v", vs[0].retry, now.Sub(start))
					}
					now = now.Add(time.Millisecond)
				}
				slack := 0
				if mode == ModeBucket {
					slack = max(1, limit/60)
					if axis == AxisTPM {
						slack = limit/60 + cost
					}
				}
				for w, n := range perWindow {
					if n > limit+slack {
						t.Errorf("window %d admitted %d > %d", w, n, limit+slack)
					}
				}
				if want := 10 * limit * 98 / 100; total < want {
					t.Errorf("admitted %d over 10 windows, want >= %d", total, want)
				}
				if mode == ModeSliding {
					for i := range times {
						n := 0
						for j := i; j < len(times) && times[j]-times[i] < window; j++ {
							n += cost
						}
						if n > limit {
							t.Fatalf("%d within a window from %v", n, times[i])
						}
					}
				}
			})
		}
	}
}

// TestQuotaRetryDelayAdmits checks that waiting exactly retryDelay is
// enough, in every mode.
func TestQuotaRetryDelayAdmits(t *testing.T) {
	for _, mode := range []string{ModeWindow, ModeSliding, ModeBucket} {
		t.Run(mode, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.LimitMode, cfg.Window, cfg.RPM = mode, time.Second, map[string]int{"m": 5}
			start := time.Unix(1e9, 0)
			now := start.Add(123 * time.Millisecond)
			q := newQuotas(&cfg, start)
			q.clock = func() time.Time { return now }
			for i := 0; i < 20; i++ {
				_, vs := q.admit("m", 1)
				if len(vs) == 0 {
					now = now.Add(7 * time.Millisecond)
					continue
				}
				d, err := time.ParseDuration(protoDuration(vs[0].retry))
				if err != nil {
					t.Fatal(err)
				}
				now = now.Add(d)
				if _, vs := q.admit("m", 1); len(vs) != 0 {
					t.Fatalf("still rejected after waiting retryDelay %v", d)
				}
			}
		})
	}
}
