package gemini

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// recorded is one request the fake server saw.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   map[string]any
}

// fake is a loopback Gemini stand-in that answers with canned bodies, so
// tests pin exact error shapes the simulator may not produce.
type fake struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []recorded
}

// newFake starts a server whose every request is handled by h after being
// recorded. It is closed when the test ends.
func newFake(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if len(raw) > 0 {
			_ = json.Unmarshal(raw, &rec.Body)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// provider returns a Provider pointed at the fake.
func (f *fake) provider(t *testing.T) *Provider {
	t.Helper()
	p, err := New(context.Background(), Options{APIKey: "test-key", BaseURL: f.srv.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// reply writes a status and a body verbatim.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// okBody is a plain successful generateContent reply.
const okBody = `{
  "candidates": [{
    "content": {"role": "model", "parts": [{"text": "{\"label\":\"positive\"}"}]},
    "finishReason": "STOP", "index": 0
  }],
  "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 7, "cachedContentTokenCount": 4,
    "thoughtsTokenCount": 3, "totalTokenCount": 22},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "abc123"
}`

// getPath walks a decoded JSON body along keys and indexes.
func getPath(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
