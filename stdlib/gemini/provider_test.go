package gemini

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// clearEnv unsets every variable New or the SDK reads, for this test only.
func clearEnv(t *testing.T) {
	for _, k := range []string{"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL",
		"GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"} {
		t.Setenv(k, "")
	}
}

func TestNewWithoutKey(t *testing.T) {
	clearEnv(t)
	_, err := New(context.Background(), Options{BaseURL: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrNoAPIKey) {
		t.Fatalf("err = %v, want ErrNoAPIKey", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "--sim") || !strings.Contains(msg, "GEMINI_API_KEY") || strings.Contains(msg, "\n") {
		t.Errorf("message %q should be one line naming GEMINI_API_KEY and --sim", msg)
	}
}

// keyAndPath runs one call and reports the key the server saw and the path.
func keyAndPath(t *testing.T, opts Options, f *fake) (string, string) {
	t.Helper()
	p, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := p.Generate(context.Background(), &runtime.Request{Item: "a", Model: "gemini-2.5-flash", Prompt: "hi"}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	reqs := f.requests()
	last := reqs[len(reqs)-1]
	return last.Header.Get("x-goog-api-key"), last.Path
}

func TestNewKeyAndBaseURLPrecedence(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		apiKey  string
		wantKey string
	}{
		{"option wins", map[string]string{"GOOGLE_API_KEY": "g", "GEMINI_API_KEY": "m"}, "opt", "opt"},
		{"GOOGLE_API_KEY over GEMINI_API_KEY, as the SDK", map[string]string{"GOOGLE_API_KEY": "g", "GEMINI_API_KEY": "m"}, "", "g"},
		{"GEMINI_API_KEY alone", map[string]string{"GEMINI_API_KEY": "m"}, "", "m"},
		{"GOOGLE_API_KEY alone", map[string]string{"GOOGLE_API_KEY": "g"}, "", "g"},
		// The env must not switch the backend: the request still takes the Gemini API path.
		{"vertex env ignored", map[string]string{"GEMINI_API_KEY": "m", "GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p", "GOOGLE_CLOUD_LOCATION": "us-central1"}, "", "m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearEnv(t)
			f := newFake(t, reply(200, okBody))
			t.Setenv("GOOGLE_GEMINI_BASE_URL", f.srv.URL) // base URL from the environment
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			key, path := keyAndPath(t, Options{APIKey: c.apiKey}, f)
			if key != c.wantKey {
				t.Errorf("key = %q, want %q", key, c.wantKey)
			}
			if path != "/v1beta/models/gemini-2.5-flash:generateContent" {
				t.Errorf("path = %q", path)
			}
		})
	}
}

func TestNewBaseURLOptionBeatsEnv(t *testing.T) {
	clearEnv(t)
	used := newFake(t, reply(200, okBody))
	unused := newFake(t, reply(200, okBody))
	t.Setenv("GOOGLE_GEMINI_BASE_URL", unused.srv.URL)
	keyAndPath(t, Options{APIKey: "k", BaseURL: used.srv.URL}, used)
	if n := len(unused.requests()); n != 0 {
		t.Errorf("env base URL got %d requests despite the option", n)
	}
}
