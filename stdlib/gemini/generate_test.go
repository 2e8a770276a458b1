package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

func ptr[T any](v T) *T { return &v }

func TestGenerateRequestShape(t *testing.T) {
	f := newFake(t, reply(200, `{
	  "candidates": [{
	    "content": {"role": "model", "parts": [
	      {"text": "let me think", "thought": true},
	      {"text": "{\"label\":"},
	      {"text": "\"positive\"}"}]},
	    "finishReason": "STOP", "index": 0}],
	  "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 7, "cachedContentTokenCount": 4,
	    "thoughtsTokenCount": 3, "totalTokenCount": 22},
	  "modelVersion": "gemini-2.5-flash-001"}`))
	p := f.provider(t)
	resp, err := p.Generate(context.Background(), &runtime.Request{
		Item:   "row-7",
		Model:  "gemini-2.5-flash",
		System: "You are a classifier.",
		Prompt: "Classify: I love it",
		Schema: map[string]any{
			"type":     "OBJECT",
			"required": []any{"label"},
			"properties": map[string]any{
				"label": map[string]any{"type": "STRING", "enum": []any{"positive", "negative"}},
				"score": map[string]any{"type": "number"}, // lower-case is normalised
			},
		},
		CachedContent:   "cachedContents/c123",
		Temperature:     ptr(0.0),
		TopP:            ptr(0.5),
		TopK:            ptr(40),
		MaxOutputTokens: 256,
		ThinkingBudget:  ptr(0),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	want := &runtime.Response{
		Text:         `{"label":"positive"}`,
		Usage:        runtime.Usage{PromptTokens: 12, OutputTokens: 7, CachedTokens: 4, ThinkingTokens: 3},
		FinishReason: "STOP",
		ModelVersion: "gemini-2.5-flash-001",
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response = %+v, want %+v", resp, want)
	}

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("x-llmpipe-item"); got != "row-7" {
		t.Errorf("x-llmpipe-item = %q, want row-7", got)
	}
	if got := r.Header.Get("x-goog-api-key"); got != "test-key" {
		t.Errorf("x-goog-api-key = %q", got)
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"contents", 0, "role"}, "user"},
		{[]any{"contents", 0, "parts", 0, "text"}, "Classify: I love it"},
		{[]any{"systemInstruction", "parts", 0, "text"}, "You are a classifier."},
		{[]any{"cachedContent"}, "cachedContents/c123"},
		{[]any{"generationConfig", "temperature"}, 0.0},
		{[]any{"generationConfig", "topP"}, 0.5},
		{[]any{"generationConfig", "topK"}, 40.0},
		{[]any{"generationConfig", "maxOutputTokens"}, 256.0},
		{[]any{"generationConfig", "responseMimeType"}, "application/json"},
		{[]any{"generationConfig", "responseSchema", "type"}, "OBJECT"},
		{[]any{"generationConfig", "responseSchema", "required", 0}, "label"},
		{[]any{"generationConfig", "responseSchema", "properties", "label", "enum", 1}, "negative"},
		{[]any{"generationConfig", "responseSchema", "properties", "score", "type"}, "NUMBER"},
		{[]any{"generationConfig", "thinkingConfig", "thinkingBudget"}, 0.0},
	}
	for _, c := range checks {
		if got := getPath(r.Body, c.path...); got != c.want {
			t.Errorf("body%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	for _, k := range []string{"automaticContinuation", "continuationToken"} {
		if getPath(r.Body, k) != nil || getPath(r.Body, "generationConfig", k) != nil {
			t.Errorf("body carries %s", k)
		}
	}
}

func TestGenerateMinimalRequest(t *testing.T) {
	f := newFake(t, reply(200, okBody))
	p := f.provider(t)
	if _, err := p.Generate(context.Background(), &runtime.Request{Item: "a", Model: "gemini-2.5-flash-lite", Prompt: "hi"}); err != nil {
		t.Fatal(err)
	}
	body := f.requests()[0].Body
	for _, k := range []string{"systemInstruction", "cachedContent"} {
		if _, ok := body[k]; ok {
			t.Errorf("minimal request carries %s", k)
		}
	}
	gc, _ := body["generationConfig"].(map[string]any)
	for _, k := range []string{"responseSchema", "responseMimeType", "temperature", "thinkingConfig", "maxOutputTokens"} {
		if _, ok := gc[k]; ok {
			t.Errorf("minimal generationConfig carries %s: %v", k, gc)
		}
	}
}

// A continuation token must not make the SDK send a second, billed request.
func TestGenerateNoAutomaticContinuation(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			// What a continued hop would get; with continuation off it is never asked for.
			reply(200, okBody)(w, r)
			return
		}
		reply(200, `{"candidates":[{"content":{"role":"model","parts":[{"text":"part one"}]},
		  "continuationToken":"AAEC","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2}}`)(w, r)
	})
	p := f.provider(t)
	resp, err := p.Generate(context.Background(), &runtime.Request{Item: "a", Model: "gemini-2.5-flash", Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
	if resp.Text != "part one" || resp.Usage.PromptTokens != 5 {
		t.Errorf("response = %+v", resp)
	}
}

func TestGenerateMaxTokensReturnsText(t *testing.T) {
	f := newFake(t, reply(200, `{"candidates":[{"content":{"role":"model","parts":[{"text":"{\"label\":\"pos"}]},
	  "finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":8}}`))
	resp, err := f.provider(t).Generate(context.Background(), &runtime.Request{Item: "a", Model: "m", Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != `{"label":"pos` || resp.FinishReason != "MAX_TOKENS" || resp.Usage.OutputTokens != 8 {
		t.Errorf("response = %+v", resp)
	}
}

func TestGenerateCallerCancelIsNotClassified(t *testing.T) {
	f := newFake(t, hang)
	p := f.provider(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := p.Generate(ctx, &runtime.Request{Item: "a", Model: "m", Prompt: "hi", Timeout: 5 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var re *runtime.Error
	if errors.As(err, &re) {
		t.Errorf("caller cancellation classified as %v", re)
	}
}

func TestGenerateBadSchemaIsFatal(t *testing.T) {
	f := newFake(t, reply(200, okBody))
	_, err := f.provider(t).Generate(context.Background(), &runtime.Request{
		Item: "a", Model: "m", Prompt: "hi",
		Schema: map[string]any{"type": "ARRAY", "minItems": "many"},
	})
	var re *runtime.Error
	if !errors.As(err, &re) || re.Class != runtime.ClassFatal {
		t.Fatalf("err = %v, want fatal *runtime.Error", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("sent %d requests for an unusable schema", n)
	}
}

// hang never answers until the client goes away (or a safety bound).
func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// Temperatures go through float32 in the SDK; check 0.7 survives as 0.7ish
// rather than vanishing or turning into 0.
func TestGenerateTemperaturePrecision(t *testing.T) {
	f := newFake(t, reply(200, okBody))
	if _, err := f.provider(t).Generate(context.Background(), &runtime.Request{Item: "a", Model: "m", Prompt: "hi", Temperature: ptr(0.7)}); err != nil {
		t.Fatal(err)
	}
	got, _ := getPath(f.requests()[0].Body, "generationConfig", "temperature").(float64)
	if got < 0.6999 || got > 0.7001 {
		b, _ := json.Marshal(f.requests()[0].Body)
		t.Errorf("temperature = %v in %s", got, b)
	}
}
