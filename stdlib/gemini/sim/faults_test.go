package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genai"
)

func TestFaults(t *testing.T) {
	cases := []struct {
		kind    string
		code    int
		status  string
		message string
	}{
		{Fault500, 500, "INTERNAL", ""},
		{Fault503, 503, "UNAVAILABLE", "The model is overloaded. Please try again later."},
		{Fault504, 504, "DEADLINE_EXCEEDED", ""},
		{FaultBare429, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			s := startSim(t, func(c *Config) { c.Fail = map[string]float64{tc.kind: 1} })
			_, err := generate(t, newClient(t, s), flash, "hello", nil)
			e := apiError(t, err)
			if e.Code != tc.code || e.Status != tc.status || (tc.message != "" && e.Message != tc.message) {
				t.Errorf("got %+v", e)
			}
			if tc.kind == FaultBare429 && len(e.Details) != 0 {
				t.Errorf("bare 429 has details %v", e.Details)
			}
			if got := s.Stats().Faults[tc.kind]; got != 1 {
				t.Errorf("Faults[%s] = %d", tc.kind, got)
			}
		})
	}
}

// transportError asserts err is a transport failure, not an API reply.
func transportError(t *testing.T, err error) {
	t.Helper()
	var e genai.APIError
	if err == nil || errors.As(err, &e) {
		t.Fatalf("want a transport error, got %v", err)
	}
}

func TestFaultReset(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Fail = map[string]float64{FaultReset: 1} })
	_, err := generate(t, newClient(t, s), flash, "hello", nil)
	transportError(t, err)
	// The client sees the reset before the handler returns and counts it:
	// wait for the count rather than race it.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Status["reset"] != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if st := s.Stats(); st.Status["reset"] != 1 {
		t.Errorf("status counts %v", st.Status)
	}
}

func TestFaultTruncate(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Fail = map[string]float64{FaultTruncate: 1} })
	c := newClient(t, s)
	_, err := generate(t, c, flash, "hello there", nil)
	transportError(t, err)
	// Streaming: the first chunks arrive, then the stream breaks.
	chunks, failed := 0, false
	for r, err := range c.Models.GenerateContentStream(testCtx(t), flash, genai.Text("hello there my friend"), nil) {
		if err != nil {
			failed = true
			break
		}
		if r.Candidates[0].FinishReason != "" {
			t.Error("a truncated stream sent its final chunk")
		}
		chunks++
	}
	if chunks == 0 || !failed {
		t.Errorf("stream: %d chunks, failed=%v; want some chunks then an error", chunks, failed)
	}
	if n := len(s.Stats().Successes); n != 0 {
		t.Errorf("truncated replies counted as successes: %v", s.Stats().Successes)
	}
}

func TestFaultHang(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Fail = map[string]float64{FaultHang: 1} })
	c := newClient(t, s)
	// The clock starts before the timeout does, so the elapsed time cannot
	// come out under it (it did under -race, when the two were read the
	// other way round). The upper bound only tells a hang cut by the
	// client's deadline from one that runs to HangMax (10 minutes): a
	// loaded machine may take seconds.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Models.GenerateContent(ctx, flash, genai.Text("hi"), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 30*time.Second {
		t.Errorf("returned after %v", el)
	}
	// A hang still in progress ends when the server closes. Close only once
	// the server has the request: a fixed sleep may close before it arrives.
	done := make(chan error, 1)
	go func() {
		_, err := c.Models.GenerateContent(context.Background(), flash, genai.Text("hi"), nil)
		done <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); s.Stats().Generate < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the second request never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	closed := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if e := apiError(t, err); e.Code != 504 {
			t.Errorf("hang at close: %+v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hanging request outlived Close")
	}
	// Close ends hangs at once; it waits up to 5 s only for handlers that
	// do not end, so a Close that took that long did not end the hang.
	if el := time.Since(closed); el > 4*time.Second {
		t.Errorf("Close took %v with a hang in flight", el)
	}
}

func TestPoison(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Poison = []string{"bad1", "bad2"} })
	c := newClient(t, s)
	for range 2 {
		_, err := generate(t, c, flash, "hi", withItem(nil, "bad2"))
		if e := apiError(t, err); e.Code != 400 || e.Status != "INVALID_ARGUMENT" {
			t.Errorf("poisoned item: %+v", e)
		}
	}
	if _, err := generate(t, c, flash, "hi", withItem(nil, "good")); err != nil {
		t.Errorf("healthy item: %v", err)
	}
}

func TestFaultMixIsReproducible(t *testing.T) {
	kinds := func() []int {
		s := startSim(t, func(c *Config) {
			c.Seed = 3
			c.Fail = map[string]float64{Fault500: 0.2, Fault503: 0.2, FaultBare429: 0.2}
		})
		c := newClient(t, s)
		var out []int
		for i := range 30 {
			_, err := generate(t, c, flash, "hi", withItem(nil, string(rune('a'+i))))
			code := 200
			if err != nil {
				code = apiError(t, err).Code
			}
			out = append(out, code)
		}
		return out
	}
	a, b := kinds(), kinds()
	seen := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d: %d then %d", i, a[i], b[i])
		}
		seen[a[i]]++
	}
	if len(seen) < 3 || seen[200] == 0 {
		t.Errorf("outcomes %v: want a mix", seen)
	}
}

func TestLatencyRespectsCancel(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Latency = 80 * time.Millisecond; c.LatencySigma = 0 })
	c := newClient(t, s)
	start := time.Now()
	if _, err := generate(t, c, flash, "hi", nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Errorf("reply after %v, want >= 80ms", el)
	}
	s2 := startSim(t, func(c *Config) { c.Latency = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s2.URL()+"v1beta/models/m:generateContent",
		strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want a timeout")
	}
	// The handler saw the cancellation: Close does not wait a minute (nor
	// the 5 s it gives handlers that do not end; a loaded machine may take
	// a second or two).
	start = time.Now()
	s2.Close()
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("Close took %v", el)
	}
}

func TestStreamErrorBeforeFirstChunk(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Fail = map[string]float64{Fault503: 1} })
	c := newClient(t, s)
	for _, err := range c.Models.GenerateContentStream(testCtx(t), flash, genai.Text("hi"), nil) {
		if e := apiError(t, err); e.Code != 503 {
			t.Errorf("got %+v", e)
		}
		return
	}
	t.Error("stream yielded nothing")
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	urls := make(chan string, 1)
	go func() { done <- Serve(ctx, DefaultConfig(), func(s *Server) { urls <- s.URL() }) }()
	url := <-urls
	resp, err := http.Get(url + "stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
