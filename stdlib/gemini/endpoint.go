package gemini

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/stdlib/gemini/itemkey"
)

// endpoint posts generateContent requests itself, with what the SDK's
// client resolved: key, base URL (a path prefix in it included), API
// version and HTTP client, so both paths reach the same place the same way.
type endpoint struct {
	hc         *http.Client
	base       *url.URL
	apiVersion string
	key        []string // nil on Vertex: the HTTP client attaches a token
	// vertexPrefix is "projects/P/locations/L/publishers/google/" on Vertex,
	// where model paths live under the project.
	vertexPrefix string
	// urls caches each model's generateContent URL: joining and printing
	// it was a dozen allocations a call.
	urls *urlCache
}

// urlCache maps a model, as a request names it, to its generateContent URL.
type urlCache struct {
	mu sync.RWMutex
	m  map[string]string
}

// maxCachedURLs bounds the cache: a run uses a handful of models, and a
// Go API caller naming thousands only loses the shortcut.
const maxCachedURLs = 64

// generateURL is the generateContent URL for model.
func (e *endpoint) generateURL(model string) (string, error) {
	c := e.urls
	if c != nil {
		c.mu.RLock()
		u, ok := c.m[model]
		c.mu.RUnlock()
		if ok {
			return u, nil
		}
	}
	mp, err := modelPath(model)
	if err != nil {
		return "", err
	}
	u := e.base.JoinPath(e.apiVersion, e.vertexPrefix+mp+":generateContent").String()
	if c != nil {
		c.mu.Lock()
		if len(c.m) < maxCachedURLs {
			c.m[model] = u
		}
		c.mu.Unlock()
	}
	return u, nil
}

// versionHeader names llmpipe (and the Go release, as the SDK's header
// does) to the API and to any proxy log in between.
var versionHeader = []string{"llmpipe gl-go/" + goruntime.Version()}

var jsonContentType = []string{"application/json"}

// itemHeaderKey is itemHeader as the header map stores it.
var itemHeaderKey = http.CanonicalHeaderKey(itemHeader)

func newEndpoint(cc genai.ClientConfig) (endpoint, error) {
	u, err := url.Parse(cc.HTTPOptions.BaseURL)
	if err != nil {
		return endpoint{}, fmt.Errorf("parsing base URL: %w", err)
	}
	hc := cc.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return endpoint{hc: hc, base: u, apiVersion: cc.HTTPOptions.APIVersion, key: []string{cc.APIKey},
		urls: &urlCache{m: map[string]string{}}}, nil
}

// modelPath is the SDK's model name rule for the Gemini API: a bare name
// gets "models/", and names that could escape the path are refused.
func modelPath(model string) (string, error) {
	if model == "" {
		return "", errors.New("model is empty")
	}
	if strings.ContainsAny(model, "?&") || strings.Contains(model, "..") {
		return "", fmt.Errorf("invalid model name %q", model)
	}
	if strings.HasPrefix(model, "models/") || strings.HasPrefix(model, "tunedModels/") {
		return model, nil
	}
	return "models/" + model, nil
}

// generateContent sends body and returns the reply body of a 2xx answer
// in a pooled buffer the caller must hand back with putBuf. A non-2xx
// answer comes back as a genai.APIError built the way the SDK builds it.
// Header values are shared between requests and must not be modified.
func (e *endpoint) generateContent(ctx context.Context, item, model string, body []byte) (*bytes.Buffer, error) {
	u, err := e.generateURL(model)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{
		"Content-Type":      jsonContentType,
		itemHeaderKey:       {itemkey.Encode(item)},
		"User-Agent":        versionHeader,
		"X-Goog-Api-Client": versionHeader,
	}
	if e.key != nil {
		req.Header["X-Goog-Api-Key"] = e.key
	}
	if t := serverTimeout(ctx, e.hc.Timeout); t > 0 {
		req.Header["X-Server-Timeout"] = []string{strconv.FormatInt(int64(math.Ceil(t.Seconds())), 10)}
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending request: %w", err)
	}
	defer resp.Body.Close()
	buf := getBuf()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		putBuf(buf)
		return nil, fmt.Errorf("reading reply: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer putBuf(buf)
		return nil, apiError(resp, buf.Bytes())
	}
	return buf, nil
}

// serverTimeout is what the SDK announces in x-server-timeout: the
// tighter of the HTTP client's timeout and the time left on ctx.
func serverTimeout(ctx context.Context, clientTimeout time.Duration) time.Duration {
	t := clientTimeout
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if t == 0 || left < t {
			t = left
		}
	}
	return t
}
