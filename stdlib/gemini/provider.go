package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
)

// ErrNoAPIKey is returned by New when no key is configured anywhere.
var ErrNoAPIKey = errors.New("no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or run offline with --sim")

// Options configures New. Zero values fall back to the environment.
type Options struct {
	// APIKey; if empty, GOOGLE_API_KEY, then GEMINI_API_KEY. When both
	// variables are set GOOGLE_API_KEY wins, the same precedence as the
	// SDK, so llmpipe and other genai tools agree on which key is used.
	APIKey string
	// BaseURL; if empty, GOOGLE_GEMINI_BASE_URL, then the SDK default
	// (https://generativelanguage.googleapis.com/).
	BaseURL string
	// HTTPClient; nil means a client whose connection pool keeps an idle
	// connection for every call in flight (no client timeout: each attempt
	// is bounded by Request.Timeout and the caller's context).
	HTTPClient *http.Client
	// Vertex sends the calls to Gemini on Vertex AI instead of the Gemini
	// API, authenticated with Application Default Credentials (no API key).
	// Project and Location name the Vertex project and region; empty means
	// GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION. BaseURL empty means
	// GOOGLE_VERTEX_BASE_URL, then the regional Vertex endpoint.
	Vertex            bool
	Project, Location string
	// VertexToken, when set, is sent as the bearer token instead of ADC's
	// (the simulator accepts any token; nothing real takes a fixed one).
	VertexToken string
	// BatchInlineLimit is the largest batch create body sent inline, in
	// bytes; bigger jobs upload a JSONL file. 0: DefaultBatchInlineLimit.
	BatchInlineLimit int
}

// Provider calls Gemini. It is safe for concurrent use.
type Provider struct {
	client  *genai.Client
	schemas schemaCache
	// deadlines bounds each attempt by its Request.Timeout.
	deadlines sharedDeadlines
	// direct is the generateContent endpoint, taken from the client's
	// resolved config so the direct path and the SDK agree on it.
	direct endpoint
	// batchInline is Options.BatchInlineLimit.
	batchInline int
	// vertex: Gemini on Vertex AI (no Batch Mode here; see the README).
	vertex bool
}

var (
	_ runtime.Provider      = (*Provider)(nil)
	_ runtime.CacheProvider = (*Provider)(nil)
)

// New builds a provider. It makes no network call.
func New(ctx context.Context, opts Options) (*Provider, error) {
	if opts.Vertex {
		return newVertex(ctx, opts)
	}
	key := opts.APIKey
	if key == "" {
		key = firstEnv("GOOGLE_API_KEY", "GEMINI_API_KEY")
	}
	if key == "" {
		// Unwrapped on purpose: the sentinel's text is already the one
		// line the CLI should print.
		return nil, ErrNoAPIKey
	}
	base := opts.BaseURL
	if base == "" {
		base = os.Getenv("GOOGLE_GEMINI_BASE_URL")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: pooledTransport()}
	}
	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey: key,
		// Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot
		// silently send llmpipe's traffic (and bills) to Vertex.
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{
			BaseURL: base,
			// RetryOptions stays nil: one HTTP request per call.
		},
	})
	if err != nil {
		return nil, fmt.Errorf("gemini: creating client: %w", err)
	}
	ep, err := newEndpoint(client.ClientConfig())
	if err != nil {
		return nil, fmt.Errorf("gemini: %w", err)
	}
	return &Provider{client: client, direct: ep, batchInline: opts.BatchInlineLimit}, nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// pooledTransport keeps as many idle connections per host as a run keeps
// calls in flight. The default keeps two, so at 64 workers nearly every
// call would dial (and on the real API, handshake TLS) afresh.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no overall cap
	t.MaxIdleConnsPerHost = 4096
	t.IdleConnTimeout = 90 * time.Second
	return t
}
