package gemini

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/itemkey"
)

// sdkConfig is how llmpipe drove genai's GenerateContent before the direct
// path replaced it. It stays as the reference the direct encoder must match.
func sdkConfig(req *runtime.Request, schemas *schemaCache) (*genai.GenerateContentConfig, error) {
	cfg := &genai.GenerateContentConfig{
		HTTPOptions: &genai.HTTPOptions{
			Headers: http.Header{itemHeader: []string{itemkey.Encode(req.Item)}},
		},
		AutomaticContinuation: genai.Ptr(false),
		CachedContent:         req.CachedContent,
		MaxOutputTokens:       int32(req.MaxOutputTokens),
	}
	if req.System != "" {
		cfg.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if req.Temperature != nil {
		cfg.Temperature = genai.Ptr(float32(*req.Temperature))
	}
	if req.TopP != nil {
		cfg.TopP = genai.Ptr(float32(*req.TopP))
	}
	if req.TopK != nil {
		cfg.TopK = genai.Ptr(float32(*req.TopK))
	}
	if req.ThinkingBudget != nil {
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: genai.Ptr(int32(*req.ThinkingBudget))}
	}
	if req.Schema != nil {
		s, err := schemas.get(req.SchemaID, req.Schema)
		if err != nil {
			return nil, err
		}
		cfg.ResponseSchema = s
		cfg.ResponseMIMEType = "application/json"
	}
	return cfg, nil
}

// TestWireEquivalence sends the same requests through genai's
// GenerateContent and through the direct path, and requires the server to
// see the same thing: path, the headers that matter, and the body as
// parsed JSON. genai is the source of truth for the wire format; if an SDK
// upgrade changes what it sends, this test says so.
func TestWireEquivalence(t *testing.T) {
	schema := func() map[string]any {
		return map[string]any{
			"type":             "object",
			"required":         []any{"label", "tags"},
			"propertyOrdering": []any{"label", "score", "tags", "note"},
			"properties": map[string]any{
				"label": map[string]any{"type": "STRING", "enum": []any{"a", "b"}, "description": "the <label> & more"},
				"score": map[string]any{"type": "number", "minimum": 0, "maximum": 1},
				"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"note":  map[string]any{"type": "string", "nullable": true},
			},
		}
	}
	cases := []struct {
		name string
		base string // appended to the fake's URL
		req  runtime.Request
		// ctxTimeout, when set, bounds the caller's context too.
		ctxTimeout time.Duration
	}{
		{"minimal", "", runtime.Request{Item: "a", Model: "gemini-2.5-flash-lite", Prompt: "hi"}, 0},
		{"empty prompt", "", runtime.Request{Item: "a", Model: "gemini-2.5-flash-lite"}, 0},
		{"everything", "", runtime.Request{
			Item: "row-7", Model: "gemini-2.5-flash", System: "You are a classifier.",
			Prompt: "Classify: I love it", SchemaID: "s1", Schema: schema(),
			CachedContent: "cachedContents/c123", Temperature: ptr(0.0), TopP: ptr(0.95), TopK: ptr(40),
			MaxOutputTokens: 256, ThinkingBudget: ptr(0), Timeout: 5 * time.Second}, 0},
		{"odd values", "", runtime.Request{
			Item: "r/8 ü", Model: "models/gemini-2.5-pro", System: "Réponds <en> \"JSON\" & rien d'autre\n\u2028",
			Prompt: "line one\nline two\t<b>é😀</b>", Schema: schema(), // no SchemaID: not cached
			Temperature: ptr(0.7), TopP: ptr(1.0), TopK: ptr(1), MaxOutputTokens: 65536, ThinkingBudget: ptr(-1)}, 0},
		{"path prefix", "/proxy/gemini/", runtime.Request{Item: "p", Model: "gemini-2.5-flash", Prompt: "hi",
			Temperature: ptr(1.3), Timeout: 90 * time.Second}, 0},
		{"caller's deadline first", "", runtime.Request{Item: "d", Model: "gemini-2.5-flash", Prompt: "hi",
			Timeout: 60 * time.Second}, 3 * time.Second},
		{"attempt's deadline first", "", runtime.Request{Item: "d", Model: "gemini-2.5-flash", Prompt: "hi",
			Timeout: 30 * time.Second}, 50 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, reply(200, okBody))
			p, err := New(context.Background(), Options{APIKey: "test-key", BaseURL: f.srv.URL + c.base})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if c.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctxTimeout)
				defer cancel()
			}
			cfg, err := sdkConfig(&c.req, &p.schemas)
			if err != nil {
				t.Fatal(err)
			}
			sdkCtx, cancel := withAttemptTimeout(ctx, c.req.Timeout)
			defer cancel()
			contents := []*genai.Content{genai.NewContentFromText(c.req.Prompt, genai.RoleUser)}
			if _, err := p.client.Models.GenerateContent(sdkCtx, c.req.Model, contents, cfg); err != nil {
				t.Fatalf("SDK: %v", err)
			}
			if _, err := p.Generate(ctx, &c.req); err != nil {
				t.Fatalf("direct: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("server saw %d requests, want 2", len(reqs))
			}
			sdk, direct := reqs[0], reqs[1]
			if sdk.Body == nil {
				t.Fatal("SDK request has no JSON body")
			}
			if !reflect.DeepEqual(direct.Body, sdk.Body) {
				t.Errorf("bodies differ\n direct %v\n    sdk %v", direct.Body, sdk.Body)
			}
			if direct.Method != sdk.Method || direct.Path != sdk.Path {
				t.Errorf("direct %s %s, sdk %s %s", direct.Method, direct.Path, sdk.Method, sdk.Path)
			}
			// Every header but the two that name the client, as the
			// server received them (the transport's own included), and
			// Content-Length: the SDK spells <, > and & as \u003c etc.,
			// the same JSON in more bytes.
			names := map[string]bool{}
			for h := range direct.Header {
				names[h] = true
			}
			for h := range sdk.Header {
				names[h] = true
			}
			delete(names, "User-Agent")
			delete(names, "X-Goog-Api-Client")
			delete(names, "Content-Length")
			for _, h := range []string{"Content-Type", "X-Goog-Api-Key", "X-Llmpipe-Item", "Accept-Encoding"} {
				if !names[h] {
					t.Errorf("header %s missing", h)
				}
			}
			for h := range names {
				if d, s := direct.Header.Values(h), sdk.Header.Values(h); !reflect.DeepEqual(d, s) {
					t.Errorf("header %s: direct %q, sdk %q", h, d, s)
				}
			}
			for _, h := range []string{"User-Agent", "X-Goog-Api-Client"} {
				if got := direct.Header.Get(h); len(got) < 8 || got[:8] != "llmpipe " {
					t.Errorf("header %s = %q, want it to name llmpipe", h, got)
				}
			}
		})
	}
}
