package gemini

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// fakeServiceAccount points Application Default Credentials at a key whose
// token endpoint is the simulator's, so the real ADC token exchange runs.
func fakeServiceAccount(t *testing.T, srv *sim.Server) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := srv.WriteServiceAccount(path); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
	t.Setenv("GOOGLE_API_KEY", "")
	t.Setenv("GEMINI_API_KEY", "")
}

// Gemini on Vertex AI against the simulator with faked ADC: the token
// exchange, generateContent under the project path, and a cache.
func TestVertexWithADC(t *testing.T) {
	var srv *sim.Server
	startSimServer(t, func(c *sim.Config) { c.MinCacheTokens = 10 }, &srv)
	fakeServiceAccount(t, srv)
	ctx := context.Background()

	// Without a token the Vertex surface refuses.
	resp, err := http.Post(srv.URL()+"v1beta1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:generateContent", "application/json", strings.NewReader(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: status %d, want 401", resp.StatusCode)
	}

	p, err := New(ctx, Options{Vertex: true, Project: "llmpipe-test", Location: "us-central1", BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Generate(ctx, &runtime.Request{Item: "v1", Model: "gemini-2.5-flash", Prompt: "Say hello", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("generate on Vertex: %v", err)
	}
	if r.Text == "" || r.Usage.PromptTokens == 0 {
		t.Fatalf("reply = %+v", r)
	}

	system := strings.Repeat("The handbook says to be kind to customers. ", 40)
	name, tokens, err := p.CreateCache(ctx, "gemini-2.5-flash", "handbook", system, time.Hour)
	if err != nil {
		t.Fatalf("create cache on Vertex: %v", err)
	}
	if tokens == 0 {
		t.Errorf("cache of %d tokens", tokens)
	}
	r, err = p.Generate(ctx, &runtime.Request{Item: "v2", Model: "gemini-2.5-flash", Prompt: "What does it say?", CachedContent: name, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("generate with cache %s: %v", name, err)
	}
	if r.Usage.CachedTokens == 0 {
		t.Errorf("reply with a cache counted no cached tokens: %+v", r.Usage)
	}
	if err := p.DeleteCache(ctx, name); err != nil {
		t.Fatalf("delete cache: %v", err)
	}
}

func TestVertexNeedsAProject(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	if _, err := New(context.Background(), Options{Vertex: true}); err != ErrNoVertexProject {
		t.Fatalf("err = %v, want ErrNoVertexProject", err)
	}
}
