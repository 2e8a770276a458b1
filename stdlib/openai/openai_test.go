package openai

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

func TestStrictSchema(t *testing.T) {
	g := map[string]any{
		"type": "OBJECT",
		"properties": map[string]any{
			"name": map[string]any{"type": "STRING", "description": "full name"},
			"age":  map[string]any{"type": "INTEGER", "nullable": true},
			"kind": map[string]any{"type": "STRING", "enum": []any{"a", "b"}, "nullable": true},
			"tags": map[string]any{"type": "ARRAY", "items": map[string]any{"type": "STRING"}},
		},
		"propertyOrdering": []any{"name", "age", "kind", "tags"},
		"required":         []any{"name", "tags"},
	}
	want := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name": map[string]any{"type": "string", "description": "full name"},
			"age":  map[string]any{"type": []any{"integer", "null"}},
			"kind": map[string]any{"type": []any{"string", "null"}, "enum": []any{"a", "b", nil}},
			"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
		"required":             []string{"name", "age", "kind", "tags"},
		"additionalProperties": false,
	}
	if got := strictSchema(g); !reflect.DeepEqual(got, want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("strictSchema =\n%s\nwant\n%s", gb, wb)
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		h    map[string]string
		want time.Duration
	}{
		{map[string]string{"retry-after-ms": "1500", "retry-after": "9"}, 1500 * time.Millisecond},
		{map[string]string{"retry-after": "2"}, 2 * time.Second},
		{map[string]string{"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}, 6 * time.Minute},
		{map[string]string{"x-ratelimit-reset-tokens": "20ms"}, 20 * time.Millisecond},
		{map[string]string{}, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		if got := retryDelay(h); got != tc.want {
			t.Errorf("retryDelay(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func startSim(t *testing.T, cfg sim.Config) *sim.Server {
	t.Helper()
	s, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var personSchema = map[string]any{
	"type": "OBJECT",
	"properties": map[string]any{
		"name": map[string]any{"type": "STRING"},
		"age":  map[string]any{"type": "INTEGER", "nullable": true},
	},
	"propertyOrdering": []any{"name", "age"},
	"required":         []any{"name"},
}

// The provider against the simulator's chat-completions surface: a strict
// schema reply, the schema-in-words fallback, usage, and a 429 classified
// with its delay.
func TestProviderAgainstSimulator(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.RPM = map[string]int{"rpm-model": 1}
	s := startSim(t, cfg)
	ctx := context.Background()
	for _, jsonSchema := range []bool{true, false} {
		p := New(Options{BaseURL: strings.TrimSuffix(s.URL(), "/") + "/v1", APIKey: "k", JSONSchema: jsonSchema})
		resp, err := p.Generate(ctx, &runtime.Request{Item: "i1", Model: "local-model", System: "extract", Prompt: "Ann Lee is 34", Schema: personSchema, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("json_schema=%v: %v", jsonSchema, err)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(resp.Text), &v); err != nil || v["name"] == nil {
			t.Errorf("json_schema=%v: reply %q is not a Person", jsonSchema, resp.Text)
		}
		if resp.Usage.PromptTokens == 0 || resp.Usage.OutputTokens == 0 || resp.FinishReason != "STOP" {
			t.Errorf("json_schema=%v: usage %+v finish %q", jsonSchema, resp.Usage, resp.FinishReason)
		}
	}

	p := New(Options{BaseURL: strings.TrimSuffix(s.URL(), "/") + "/v1", JSONSchema: true})
	req := &runtime.Request{Item: "i2", Model: "rpm-model", Prompt: "hello", Timeout: 10 * time.Second}
	if _, err := p.Generate(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err := p.Generate(ctx, req)
	var re *runtime.Error
	if !errors.As(err, &re) || re.Class != runtime.ClassRateLimit || re.RetryDelay <= 0 {
		t.Fatalf("second call in the minute: %v (%+v), want a rate limit with a delay", err, re)
	}
}

// The official Go SDK, used as an application would, works unchanged
// against the simulator: plain text, json_schema and streaming.
func TestOpenAIGoClientAgainstSimulator(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"bad-model": 1}
	s := startSim(t, cfg)
	client := openai.NewClient(option.WithBaseURL(strings.TrimSuffix(s.URL(), "/")+"/v1"), option.WithAPIKey("test"), option.WithMaxRetries(0))
	ctx := context.Background()

	comp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "qwen2.5-7b-instruct",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(comp.Choices) != 1 || comp.Choices[0].Message.Content == "" || comp.Usage.TotalTokens == 0 {
		t.Fatalf("completion = %+v", comp)
	}

	p := New(Options{JSONSchema: true})
	params := p.params(&runtime.Request{Model: "qwen2.5-7b-instruct", Prompt: "Ann Lee is 34", Schema: personSchema})
	comp, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(comp.Choices[0].Message.Content), &v); err != nil {
		t.Fatalf("json_schema reply %q: %v", comp.Choices[0].Message.Content, err)
	}
	if _, ok := v["age"]; !ok {
		t.Errorf("strict reply lacks the nullable field: %v", v)
	}

	// A model the simulator answers wrongly on purpose: the invalid-answer
	// flags work by model id on this surface too.
	params.Model = "bad-model"
	if _, err = client.Chat.Completions.New(ctx, params); err != nil {
		t.Fatal(err)
	}
	invalid := int64(0)
	for _, n := range s.Stats().Invalid {
		invalid += n
	}
	if invalid != 1 {
		t.Errorf("simulator counted %d wrong answers, want 1 (for bad-model)", invalid)
	}

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "qwen2.5-7b-instruct",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || strings.TrimSpace(acc.Choices[0].Message.Content) == "" || acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("streamed completion = %+v", acc.ChatCompletion)
	}
}
