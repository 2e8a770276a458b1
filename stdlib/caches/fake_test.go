package caches

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// fakeProvider is an in-memory CacheProvider that expires caches on real
// time and records every call.
type fakeProvider struct {
	mu       sync.Mutex
	seq      int
	live     map[string]time.Time // name → expiry
	creates  []string             // model of each create
	updates  int
	deletes  []string
	minSize  int           // content shorter than this is refused as too small
	failNext error         // returned by the next create
	delay    time.Duration // each create takes this long
}

func newFake() *fakeProvider { return &fakeProvider{live: map[string]time.Time{}} }

func (f *fakeProvider) CreateCache(ctx context.Context, model, display, system string, ttl time.Duration) (string, int, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, model)
	if err := f.failNext; err != nil {
		f.failNext = nil
		return "", 0, err
	}
	if len(system) < f.minSize {
		return "", 0, &runtime.Error{Class: runtime.ClassFatal, Status: 400, TooSmall: true, Message: "too small"}
	}
	f.seq++
	name := fmt.Sprintf("cachedContents/c%d", f.seq)
	f.live[name] = time.Now().Add(ttl)
	return name, len(system), nil
}

func (f *fakeProvider) UpdateCacheTTL(ctx context.Context, name string, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates++
	if exp, ok := f.live[name]; !ok || !time.Now().Before(exp) {
		return &runtime.Error{Class: runtime.ClassFatal, Status: 403, CacheGone: true, Message: "not found"}
	}
	f.live[name] = time.Now().Add(ttl)
	return nil
}

func (f *fakeProvider) DeleteCache(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, name)
	delete(f.live, name)
	return nil
}

// alive reports whether name exists and has not expired.
func (f *fakeProvider) alive(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.live[name]
	return ok && time.Now().Before(exp)
}

// vanish deletes a cache behind the manager's back.
func (f *fakeProvider) vanish(name string) {
	f.mu.Lock()
	delete(f.live, name)
	f.mu.Unlock()
}

func (f *fakeProvider) counts() (creates, updates, deletes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.creates), f.updates, len(f.deletes)
}

func (f *fakeProvider) liveNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.live {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fakeStore keeps cache records; the other Store methods are not used.
type fakeStore struct {
	runtime.Store
	mu   sync.Mutex
	recs map[string]runtime.CacheRecord
}

func newFakeStore() *fakeStore { return &fakeStore{recs: map[string]runtime.CacheRecord{}} }

func (s *fakeStore) SaveCache(_ context.Context, c runtime.CacheRecord) error {
	s.mu.Lock()
	s.recs[c.Name] = c
	s.mu.Unlock()
	return nil
}

func (s *fakeStore) ForgetCache(_ context.Context, name string) error {
	s.mu.Lock()
	delete(s.recs, name)
	s.mu.Unlock()
	return nil
}

func (s *fakeStore) Caches(context.Context) ([]runtime.CacheRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []runtime.CacheRecord
	for _, r := range s.recs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// events collects manager events.
type events struct {
	mu sync.Mutex
	ev []runtime.Event
}

func (e *events) add(ev runtime.Event) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *events) count(k runtime.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.ev {
		if ev.Kind == k {
			n++
		}
	}
	return n
}
