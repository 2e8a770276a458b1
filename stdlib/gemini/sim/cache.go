package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/catalog"
)

// cacheEntry is one cachedContents resource. Its content is kept only as a
// token count: replies never quote the system text.
type cacheEntry struct {
	name, model, displayName string
	tokens                   int
	created, updated         time.Time
	expire                   time.Time // real instant, TTL scaled by the window
}

// caches is the cachedContents store.
type caches struct {
	mu    sync.Mutex
	m     map[string]*cacheEntry
	seq   int
	scale float64 // real seconds per nominal second: Window/60s
	st    *counters
}

func newCaches(window time.Duration, st *counters) *caches {
	return &caches{m: map[string]*cacheEntry{}, scale: float64(window) / float64(time.Minute), st: st}
}

// realTTL maps a nominal TTL onto the compressed clock.
func (c *caches) realTTL(ttl time.Duration) time.Duration {
	return time.Duration(float64(ttl) * c.scale)
}

type cacheCreate struct {
	Model             string    `json:"model"`
	Contents          []content `json:"contents"`
	SystemInstruction *content  `json:"systemInstruction"`
	DisplayName       string    `json:"displayName"`
	TTL               string    `json:"ttl"`
	ExpireTime        string    `json:"expireTime"`
}

// expiry reads ttl or expireTime; expireTime is taken as nominal and its
// distance from now scaled like a TTL.
func (c *caches) expiry(now time.Time, ttl, expireTime string, def time.Duration) (time.Time, error) {
	d := def
	switch {
	case ttl != "":
		v, err := time.ParseDuration(ttl)
		if err != nil || v < 0 {
			return time.Time{}, fmt.Errorf("invalid ttl %q", ttl)
		}
		d = v
	case expireTime != "":
		t, err := time.Parse(time.RFC3339Nano, expireTime)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid expireTime %q", expireTime)
		}
		d = t.Sub(now)
	}
	return now.Add(c.realTTL(d)), nil
}

func (c *caches) create(now time.Time, req *cacheCreate, minTokens int) (*cacheEntry, *apiErr) {
	model := strings.TrimPrefix(req.Model, "models/")
	if i := strings.LastIndex(model, "/models/"); i >= 0 && strings.HasPrefix(model, "projects/") {
		model = model[i+len("/models/"):] // Vertex: projects/P/locations/L/publishers/google/models/M
	}
	if model == "" {
		return nil, errBadRequest("* CreateCachedContentRequest.cached_content.model: model is required")
	}
	tokens := countTokens(req.Contents, req.SystemInstruction)
	if minTokens <= 0 {
		minTokens = catalog.MinCacheTokens(model)
	}
	if tokens < minTokens {
		return nil, errBadRequest(fmt.Sprintf("Cached content is too small. total_token_count=%d, min_total_token_count=%d", tokens, minTokens))
	}
	exp, err := c.expiry(now, req.TTL, req.ExpireTime, time.Hour)
	if err != nil {
		return nil, errBadRequest(err.Error())
	}
	c.mu.Lock()
	c.seq++
	e := &cacheEntry{
		name:        "cachedContents/" + cacheID(c.seq),
		model:       model,
		displayName: req.DisplayName,
		tokens:      tokens,
		created:     now,
		updated:     now,
		expire:      exp,
	}
	c.m[e.name] = e
	c.mu.Unlock()
	c.st.caches(func(cc *CacheCounts) { cc.Created++; cc.Live++ })
	return e, nil
}

func cacheID(n int) string {
	return "sim" + strconv.FormatUint(mix64(uint64(n))&0xffffffffff, 36)
}

func cacheName(id string) string {
	// Vertex names a cache under its project and location.
	if i := strings.Index(id, "/cachedContents/"); i >= 0 && strings.HasPrefix(id, "projects/") {
		id = id[i+1:]
	}
	if strings.HasPrefix(id, "cachedContents/") {
		return id
	}
	return "cachedContents/" + id
}

// lookup returns a live cache; an expired one is dropped and reported as
// missing, as the real API forgets it.
func (c *caches) lookup(now time.Time, name string) (cacheEntry, bool) {
	name = cacheName(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[name]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expire) {
		c.expireLocked(e)
		return cacheEntry{}, false
	}
	return *e, true
}

func (c *caches) expireLocked(e *cacheEntry) {
	delete(c.m, e.name)
	c.st.caches(func(cc *CacheCounts) { cc.Expired++; cc.Deleted++; cc.Live-- })
}

func (c *caches) update(now time.Time, name, ttl, expireTime string) (cacheEntry, *apiErr) {
	if ttl == "" && expireTime == "" {
		return cacheEntry{}, errBadRequest("ttl or expireTime is required")
	}
	exp, err := c.expiry(now, ttl, expireTime, 0)
	if err != nil {
		return cacheEntry{}, errBadRequest(err.Error())
	}
	if _, ok := c.lookup(now, name); !ok {
		return cacheEntry{}, errCacheNotFound()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheName(name)]
	if !ok { // deleted in between
		return cacheEntry{}, errCacheNotFound()
	}
	e.expire, e.updated = exp, now
	return *e, nil
}

func (c *caches) remove(now time.Time, name string) bool {
	if _, ok := c.lookup(now, name); !ok {
		return false
	}
	c.mu.Lock()
	_, ok := c.m[cacheName(name)]
	delete(c.m, cacheName(name))
	c.mu.Unlock()
	if ok {
		c.st.caches(func(cc *CacheCounts) { cc.Deleted++; cc.Live-- })
	}
	return ok
}

// list returns the live caches sorted by name, dropping expired ones.
func (c *caches) list(now time.Time) []cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]cacheEntry, 0, len(c.m))
	for _, e := range c.m {
		if !now.Before(e.expire) {
			c.expireLocked(e)
			continue
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// sweep drops expired caches so Stats.Caches.Live is current.
func (c *caches) sweep(now time.Time) { c.list(now) }

func (e *cacheEntry) json() map[string]any {
	return map[string]any{
		"name":          e.name,
		"model":         "models/" + e.model,
		"displayName":   e.displayName,
		"createTime":    e.created.UTC().Format(time.RFC3339Nano),
		"updateTime":    e.updated.UTC().Format(time.RFC3339Nano),
		"expireTime":    e.expire.UTC().Format(time.RFC3339Nano),
		"usageMetadata": map[string]int{"totalTokenCount": e.tokens},
	}
}

func marshalCache(e *cacheEntry) []byte {
	b, _ := json.Marshal(e.json())
	return b
}
