package gemini

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
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
	// urls caches each model's generateContent request template: joining,
	// printing and parsing its URL was a dozen allocations a call.
	urls *urlCache
}

// urlCache maps a model, as a request names it, to its generateContent
// request template.
type urlCache struct {
	mu sync.RWMutex
	m  map[string]*generateTarget
}

// generateTarget is one model's generateContent URL, parsed once.
type generateTarget struct {
	// tmpl is http.NewRequest's request for the URL, with no body and no
	// header; each call sends a shallow copy (Request.WithContext) that
	// gets its own. The URL it points to is shared and never modified.
	tmpl *http.Request
	// errURL is the URL as http.Client spells it in a *url.Error.
	errURL string
}

// maxCachedURLs bounds the cache: a run uses a handful of models, and a
// Go API caller naming thousands only loses the shortcut.
const maxCachedURLs = 64

// target is model's generateContent target, from the cache when it is there.
func (e *endpoint) target(model string) (*generateTarget, error) {
	c := e.urls
	if c != nil {
		c.mu.RLock()
		t, ok := c.m[model]
		c.mu.RUnlock()
		if ok {
			return t, nil
		}
	}
	mp, err := modelPath(model)
	if err != nil {
		return nil, err
	}
	u := e.base.JoinPath(e.apiVersion, e.vertexPrefix+mp+":generateContent").String()
	tmpl, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	t := &generateTarget{tmpl: tmpl, errURL: tmpl.URL.String()}
	if c != nil {
		c.mu.Lock()
		if len(c.m) < maxCachedURLs {
			c.m[model] = t
		}
		c.mu.Unlock()
	}
	return t, nil
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
		urls: &urlCache{m: map[string]*generateTarget{}}}, nil
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
//
// timeout is the attempt's own (0: none). ctx may end up to 1 % later
// than it (see sharedDeadlines), so x-server-timeout is held to it: the
// header says what the SDK would say for a context of exactly timeout.
func (e *endpoint) generateContent(ctx context.Context, timeout time.Duration, item, model string, body []byte) (*bytes.Buffer, error) {
	t, err := e.target(model)
	if err != nil {
		return nil, err
	}
	// What http.NewRequestWithContext makes of a *bytes.Reader body, from
	// the model's template: the URL is not parsed again.
	req := t.tmpl.WithContext(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	h := make(http.Header, 8)
	h["Content-Type"] = jsonContentType
	h[itemHeaderKey] = []string{itemkey.Encode(item)}
	h["User-Agent"] = versionHeader
	h["X-Goog-Api-Client"] = versionHeader
	if e.key != nil {
		h["X-Goog-Api-Key"] = e.key
	}
	d := serverTimeout(ctx, e.hc.Timeout)
	if timeout > 0 && (d == 0 || d > timeout) {
		d = timeout
	}
	if d > 0 {
		h["X-Server-Timeout"] = timeoutHeader(d)
	}
	req.Header = h
	resp, err := e.do(req, t)
	if err != nil {
		return nil, fmt.Errorf("sending request: %w", err)
	}
	defer resp.Body.Close()
	buf := getBuf()
	if n := resp.ContentLength; n > 0 && n <= maxPooledBuf {
		// Room for the whole body and ReadFrom's final empty read, so
		// the buffer does not grow in steps.
		buf.Grow(int(n) + bytes.MinRead)
	}
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

// do sends req as e.hc.Do would. A client with no cookie jar and no
// timeout (the one New makes) adds nothing to a POST answered without a
// redirect but a copy of its headers, kept for redirects, and a slice of
// the requests sent: a tenth of a call's allocations. So such a client's
// transport is called directly, and the rare redirect is sent again
// through the client, which follows it. Errors are wrapped as the client
// wraps them.
func (e *endpoint) do(req *http.Request, t *generateTarget) (*http.Response, error) {
	hc := e.hc
	if hc.Jar != nil || hc.Timeout != 0 || req.URL.User != nil {
		return hc.Do(req)
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		if tlsErr, ok := err.(tls.RecordHeaderError); ok && string(tlsErr.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		return nil, &url.Error{Op: "Post", URL: t.errURL, Err: err}
	}
	if resp.Body == nil {
		// A RoundTripper that means "no body" this way (some test fakes).
		resp.Body = http.NoBody
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if resp.Header.Get("Location") == "" {
			return resp, nil // the client returns these as they are
		}
		resp.Body.Close()
		again := req.Clone(req.Context())
		again.Body, _ = req.GetBody()
		return hc.Do(again)
	}
	return resp, nil
}

// timeoutHeaders holds x-server-timeout values for whole seconds up to an
// hour, so a call does not format one.
var timeoutHeaders = func() [][]string {
	hs := make([][]string, 3601)
	for i := range hs {
		hs[i] = []string{strconv.Itoa(i)}
	}
	return hs
}()

// timeoutHeader is d as x-server-timeout: whole seconds, rounded up.
func timeoutHeader(d time.Duration) []string {
	s := int64(math.Ceil(d.Seconds()))
	if s >= 0 && s < int64(len(timeoutHeaders)) {
		return timeoutHeaders[s]
	}
	return []string{strconv.FormatInt(s, 10)}
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
