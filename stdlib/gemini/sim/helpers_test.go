package sim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"google.golang.org/genai"
)

// startSim starts a server with DefaultConfig changed by edit and closes it
// when the test ends.
func startSim(t *testing.T, edit func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.KeepLog = true
	if edit != nil {
		edit(&cfg)
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newClient(t *testing.T, s *Server) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      "test",
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  &http.Client{Transport: &http.Transport{}},
		HTTPOptions: genai.HTTPOptions{BaseURL: s.URL()},
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// withItem is a per-request config sending the x-llmpipe-item header.
func withItem(cfg *genai.GenerateContentConfig, item string) *genai.GenerateContentConfig {
	if cfg == nil {
		cfg = &genai.GenerateContentConfig{}
	}
	cfg.HTTPOptions = &genai.HTTPOptions{Headers: http.Header{"X-Llmpipe-Item": {item}}}
	return cfg
}

func apiError(t *testing.T, err error) genai.APIError {
	t.Helper()
	var e genai.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a genai.APIError", err, err)
	}
	return e
}

// detail returns the first error detail of the given @type suffix.
func detail(e genai.APIError, typ string) map[string]any {
	for _, d := range e.Details {
		if d["@type"] == "type.googleapis.com/google.rpc."+typ {
			return d
		}
	}
	return nil
}

func generate(t *testing.T, c *genai.Client, model, prompt string, cfg *genai.GenerateContentConfig) (*genai.GenerateContentResponse, error) {
	t.Helper()
	return c.Models.GenerateContent(testCtx(t), model, genai.Text(prompt), cfg)
}
