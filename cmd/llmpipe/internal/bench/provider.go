package bench

import (
	"context"
	"hash/fnv"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
)

// newHTTPClient keeps enough idle connections for every call in flight:
// the default two per host would open a new loopback connection for
// nearly every call and, at thousands of calls a second, run out of ports.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4096
	t.MaxIdleConnsPerHost = 4096
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// recorder times every call the runtime makes, by (item, model) in call
// order, so the simulator's log can be joined to it.
type recorder struct {
	mu    sync.Mutex
	calls map[string][]time.Duration
}

func (r *recorder) add(item, model string, d time.Duration) {
	k := callKey(item, model)
	r.mu.Lock()
	r.calls[k] = append(r.calls[k], d)
	r.mu.Unlock()
}

// skew changes a request's prompt length by the returned factor before it
// is sent, after the runtime has estimated its tokens: a stand-in for a
// tokenizer that counts differently from the estimate. nil sends it as is.
type skew func(item string) float64

// wrapped is the Gemini provider with the bench's instruments.
type wrapped struct {
	p    runtime.Provider
	rec  *recorder // nil: not timed
	skew skew
}

func (w *wrapped) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	if w.skew != nil {
		r := *req
		r.Prompt = resize(req.Prompt, w.skew(req.Item))
		req = &r
	}
	if w.rec == nil {
		return w.p.Generate(ctx, req)
	}
	start := time.Now()
	resp, err := w.p.Generate(ctx, req)
	w.rec.add(req.Item, req.Model, time.Since(start))
	return resp, err
}

// wrappedCache keeps the provider's context-cache methods visible.
type wrappedCache struct {
	*wrapped
	runtime.CacheProvider
}

func (w wrappedCache) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	return w.wrapped.Generate(ctx, req)
}

// newProvider builds the Gemini provider pointed at the simulator.
func newProvider(ctx context.Context, url string, rec *recorder, sk skew) (runtime.Provider, error) {
	g, err := gemini.New(ctx, gemini.Options{APIKey: "bench", BaseURL: url, HTTPClient: newHTTPClient()})
	if err != nil {
		return nil, err
	}
	if rec == nil && sk == nil {
		return g, nil
	}
	w := &wrapped{p: g, rec: rec, skew: sk}
	return wrappedCache{wrapped: w, CacheProvider: g}, nil
}

// resize returns s cut or padded (with its own words, repeated) to about
// f times its length.
func resize(s string, f float64) string {
	n := int(float64(len(s)) * f)
	switch {
	case n <= 0 || len(s) == 0:
		return s
	case n <= len(s):
		return s[:n]
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(s)
	for b.Len() < n {
		b.WriteByte(' ')
		b.WriteString(s[:min(len(s), n-b.Len())])
	}
	return b.String()
}

// unit returns a number in [0,1) fixed by seed and key.
func unit(seed int64, key string) float64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(key))
	return float64(h.Sum64()>>11) / (1 << 53)
}
