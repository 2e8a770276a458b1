package gemini

import (
	"bytes"
	"math"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// The hand-written encoder must write exactly what json.Encoder writes
// for wireRequest (HTML escaping off): field order, omitempty, float32
// formatting, string escapes and the final newline.
func TestEncodeRequestMatchesEncoder(t *testing.T) {
	schema := map[string]any{
		"type":       "OBJECT",
		"properties": map[string]any{"label": map[string]any{"type": "STRING", "description": "the <label> & more"}},
	}
	reqs := []runtime.Request{
		{Model: "m", Prompt: "hi"},
		{Model: "m"},
		{Model: "m", Prompt: "p", System: "s", CachedContent: "cachedContents/c1", MaxOutputTokens: 256},
		{Model: "m", Prompt: "line one\nline two\t<b>é😀</b> \u2028 \x01 \"q\" \\", System: "Réponds <en> & \u2029"},
		{Model: "m", Prompt: "bad utf-8: \xff\xfe end"},
		{Model: "m", Prompt: "x", Schema: schema, SchemaID: "s1"},
		{Model: "m", Prompt: "x", Schema: schema}, // no SchemaID: not cached
		{Model: "m", Prompt: "x", Temperature: ptr(0.0), TopP: ptr(0.95), TopK: ptr(40), ThinkingBudget: ptr(0)},
		{Model: "m", Prompt: "x", Temperature: ptr(0.7), TopP: ptr(1.0), TopK: ptr(1), ThinkingBudget: ptr(-1), MaxOutputTokens: 65536},
		{Model: "m", Prompt: "x", Temperature: ptr(1e-7), TopP: ptr(3e21), TopK: ptr(1 << 30)},
		{Model: "m", Prompt: "x", Temperature: ptr(math.Copysign(0, -1)), TopP: ptr(1e-6), TopK: ptr(-3)},
		{Model: "m", Prompt: "x", Temperature: ptr(0.1), TopP: ptr(3.4e38), MaxOutputTokens: 1<<31 + 5, ThinkingBudget: ptr(1<<31 + 7)},
		{Model: "m", Prompt: "x", Temperature: ptr(1e-45), TopP: ptr(2.5e-9)},
	}
	for i, req := range reqs {
		var sc1, sc2 schemaCache
		got, err := encodeRequest(&req, &sc1)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		var schemaJSON []byte
		if req.Schema != nil {
			if schemaJSON, err = sc2.encoded(req.SchemaID, req.Schema); err != nil {
				t.Fatal(err)
			}
		}
		want, err := encodeRequestJSON(&req, schemaJSON)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// A NaN sampling knob is refused as encoding/json refuses it: a fatal
// error, never a body the API would reject on every attempt.
func TestEncodeRequestNaN(t *testing.T) {
	var sc schemaCache
	for _, req := range []runtime.Request{
		{Model: "m", Prompt: "x", Temperature: ptr(math.NaN())},
		{Model: "m", Prompt: "x", TopP: ptr(math.Inf(1))},
	} {
		_, err := encodeRequest(&req, &sc)
		if pe, ok := err.(*runtime.Error); !ok || pe.Class != runtime.ClassFatal {
			t.Errorf("err = %v, want a fatal *runtime.Error", err)
		}
	}
}

func FuzzEncodeRequest(f *testing.F) {
	f.Add("hi", "", "", 0.5, 0.9, 3, 100, 0)
	f.Add("<a> & \u2028", "sys\n", "cachedContents/x", 1e-7, 2e21, -1, 0, -1)
	f.Fuzz(func(t *testing.T, prompt, system, cached string, temp, topP float64, topK, maxOut, budget int) {
		req := runtime.Request{Model: "m", Prompt: prompt, System: system, CachedContent: cached,
			Temperature: &temp, TopP: &topP, TopK: &topK, MaxOutputTokens: maxOut, ThinkingBudget: &budget}
		var sc schemaCache
		got, err := encodeRequest(&req, &sc)
		want, werr := encodeRequestJSON(&req, nil)
		if (err == nil) != (werr == nil) {
			t.Fatalf("errors differ: %v vs %v", err, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
