package gemini

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// These tests run the provider against the simulator, the same pairing the
// runtime's tests and `llmpipe run --sim` use, so the two agree on the wire.

func startSim(t *testing.T, edit func(*sim.Config)) *Provider {
	t.Helper()
	return startSimServer(t, edit, nil)
}

// startSimServer is startSim that also hands back the server in *srv
// (when srv is not nil).
func startSimServer(t *testing.T, edit func(*sim.Config), srv **sim.Server) *Provider {
	t.Helper()
	cfg := sim.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	s, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if srv != nil {
		*srv = s
	}
	p, err := New(context.Background(), Options{APIKey: "sim", BaseURL: s.URL()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func simCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSimGenerateSchema(t *testing.T) {
	p := startSim(t, nil)
	resp, err := p.Generate(simCtx(t), &runtime.Request{
		Item: "a1", Model: "gemini-2.5-flash-lite",
		System: "Extract the person.",
		Prompt: "Ada Lovelace wrote to ada@example.com about the engine.",
		Schema: map[string]any{
			"type":     "OBJECT",
			"required": []any{"name", "email"},
			"properties": map[string]any{
				"name":  map[string]any{"type": "STRING"},
				"email": map[string]any{"type": "STRING"},
			},
		},
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !strings.HasPrefix(resp.Text, "{") || !strings.Contains(resp.Text, `"email"`) {
		t.Errorf("text = %q, want a JSON object with email", resp.Text)
	}
	if resp.Usage.PromptTokens == 0 || resp.Usage.OutputTokens == 0 || resp.FinishReason != "STOP" {
		t.Errorf("response = %+v", resp)
	}
}

func TestSimScriptedErrors(t *testing.T) {
	p := startSim(t, func(c *sim.Config) {
		c.Script = []sim.ScriptLine{
			{Item: "rl", Status: 429, RetryDelay: sim.Duration(3 * time.Second), QuotaID: "GenerateRequestsPerMinutePerProjectPerModel"},
			{Item: "busy", Status: 503, Message: "The model is overloaded. Please try again later."},
			{Item: "bad", Status: 400, Message: "Invalid argument"},
			{Item: "rst", Fault: sim.FaultReset},
			{Item: "cut", Fault: sim.FaultTruncate},
			{Item: "slow", Fault: sim.FaultHang},
		}
	})
	cases := []struct {
		item    string
		timeout time.Duration
		check   func(t *testing.T, e *runtime.Error)
		class   runtime.Class
	}{
		{"rl", 0, func(t *testing.T, e *runtime.Error) {
			if e.RetryDelay != 3*time.Second || len(e.Quota) != 1 || e.Quota[0].Axis != runtime.AxisRPM {
				t.Errorf("429 = %+v", e)
			}
		}, runtime.ClassRateLimit},
		{"busy", 0, nil, runtime.ClassTransient},
		{"bad", 0, nil, runtime.ClassFatal},
		{"rst", 0, nil, runtime.ClassTransient},
		{"cut", 0, nil, runtime.ClassTransient},
		{"slow", 200 * time.Millisecond, func(t *testing.T, e *runtime.Error) {
			if e.Message != "timeout after 200ms" {
				t.Errorf("message = %q", e.Message)
			}
		}, runtime.ClassTransient},
	}
	for _, c := range cases {
		t.Run(c.item, func(t *testing.T) {
			_, err := p.Generate(simCtx(t), &runtime.Request{Item: c.item, Model: "gemini-2.5-flash", Prompt: "hello there", Timeout: c.timeout})
			var e *runtime.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *runtime.Error", err)
			}
			if e.Class != c.class {
				t.Errorf("class = %v, want %v (%v)", e.Class, c.class, err)
			}
			if c.check != nil {
				c.check(t, e)
			}
		})
	}
}

func TestSimQuota429(t *testing.T) {
	p := startSim(t, func(c *sim.Config) {
		c.RPM = map[string]int{"gemini-2.5-flash": 1}
	})
	req := &runtime.Request{Item: "q", Model: "gemini-2.5-flash", Prompt: "hi"}
	if _, err := p.Generate(simCtx(t), req); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := p.Generate(simCtx(t), req)
	var e *runtime.Error
	if !errors.As(err, &e) || e.Class != runtime.ClassRateLimit {
		t.Fatalf("second call err = %v, want rate_limit", err)
	}
	if e.RetryDelay <= 0 || e.RetryDelay > time.Minute {
		t.Errorf("retry delay = %v", e.RetryDelay)
	}
	if len(e.Quota) == 0 || e.Quota[0].Axis != runtime.AxisRPM || e.Quota[0].Model != "gemini-2.5-flash" || e.Quota[0].Value != 1 {
		t.Errorf("quota = %+v", e.Quota)
	}
}

func TestSimCacheLifecycle(t *testing.T) {
	p := startSim(t, func(c *sim.Config) { c.MinCacheTokens = 100 })
	ctx := simCtx(t)
	model := "gemini-2.5-flash"

	_, _, err := p.CreateCache(ctx, model, "tiny", "too short", time.Hour)
	var e *runtime.Error
	if !errors.As(err, &e) || !e.TooSmall || e.Class != runtime.ClassFatal {
		t.Fatalf("small cache err = %v, want fatal TooSmall", err)
	}

	system := strings.Repeat("Grade answers strictly against the rubric. ", 40)
	name, tokens, err := p.CreateCache(ctx, model, "rubric", system, time.Hour)
	if err != nil {
		t.Fatalf("CreateCache: %v", err)
	}
	if !strings.HasPrefix(name, "cachedContents/") || tokens < 100 {
		t.Errorf("cache = %q, %d tokens", name, tokens)
	}
	if err := p.UpdateCacheTTL(ctx, name, 2*time.Hour); err != nil {
		t.Fatalf("UpdateCacheTTL: %v", err)
	}

	resp, err := p.Generate(ctx, &runtime.Request{Item: "c1", Model: model, Prompt: "answer: 42", CachedContent: name})
	if err != nil {
		t.Fatalf("Generate with cache: %v", err)
	}
	if resp.Usage.CachedTokens != tokens || resp.Usage.PromptTokens <= tokens {
		t.Errorf("usage = %+v, want %d cached inside the prompt count", resp.Usage, tokens)
	}

	if err := p.DeleteCache(ctx, name); err != nil {
		t.Fatalf("DeleteCache: %v", err)
	}
	if err := p.DeleteCache(ctx, name); err != nil {
		t.Errorf("second DeleteCache: %v, want nil", err)
	}
	_, err = p.Generate(ctx, &runtime.Request{Item: "c2", Model: model, Prompt: "answer: 42", CachedContent: name})
	if !errors.As(err, &e) || !e.CacheGone || e.Class != runtime.ClassTransient {
		t.Errorf("generate with deleted cache err = %v, want transient CacheGone", err)
	}
	if err := p.UpdateCacheTTL(ctx, name, time.Hour); !errors.As(err, &e) || !e.CacheGone {
		t.Errorf("update of deleted cache err = %v, want CacheGone", err)
	}
}
