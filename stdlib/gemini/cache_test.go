package gemini

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestCreateCache(t *testing.T) {
	f := newFake(t, reply(200, `{"name":"cachedContents/abc123","model":"models/gemini-2.5-flash",
	  "displayName":"preamble","usageMetadata":{"totalTokenCount":5123},"expireTime":"2026-01-01T01:00:00Z"}`))
	name, tokens, err := f.provider(t).CreateCache(context.Background(), "gemini-2.5-flash", "preamble", "You are a careful grader.", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if name != "cachedContents/abc123" || tokens != 5123 {
		t.Errorf("got %q, %d; want cachedContents/abc123, 5123", name, tokens)
	}
	r := f.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/v1beta/cachedContents" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"model"}, "models/gemini-2.5-flash"},
		{[]any{"displayName"}, "preamble"},
		{[]any{"ttl"}, "3600s"},
		{[]any{"systemInstruction", "parts", 0, "text"}, "You are a careful grader."},
		{[]any{"contents"}, nil},
	}
	for _, c := range checks {
		if got := getPath(r.Body, c.path...); got != c.want {
			t.Errorf("body%v = %#v, want %#v", c.path, got, c.want)
		}
	}
}

func TestCreateCacheEstimatesTokensWithoutUsage(t *testing.T) {
	f := newFake(t, reply(200, `{"name":"cachedContents/x"}`))
	system := strings.Repeat("abcd", 1000)
	_, tokens, err := f.provider(t).CreateCache(context.Background(), "gemini-2.5-flash", "p", system, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if tokens != 1000 {
		t.Errorf("tokens = %d, want 1000 (len/4)", tokens)
	}
}

// A server that insists on a content turn gets the text as one.
func TestCreateCacheFallsBackToContents(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			reply(400, `{"error":{"code":400,"message":"CachedContent must have at least one content.","status":"INVALID_ARGUMENT"}}`)(w, r)
			return
		}
		reply(200, `{"name":"cachedContents/y","usageMetadata":{"totalTokenCount":2048}}`)(w, r)
	})
	name, tokens, err := f.provider(t).CreateCache(context.Background(), "gemini-2.5-flash", "p", "big text", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if name != "cachedContents/y" || tokens != 2048 {
		t.Errorf("got %q, %d", name, tokens)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	second := reqs[1].Body
	if getPath(second, "contents", 0, "parts", 0, "text") != "big text" || getPath(second, "systemInstruction") != nil {
		t.Errorf("fallback body = %v", second)
	}
	if getPath(second, "ttl") != "1800s" {
		t.Errorf("fallback ttl = %v", getPath(second, "ttl"))
	}
}

func TestCreateCacheTooSmall(t *testing.T) {
	f := newFake(t, reply(400, `{"error":{"code":400,"message":"Cached content is too small. total_token_count=312, min_total_token_count=1024","status":"INVALID_ARGUMENT"}}`))
	_, _, err := f.provider(t).CreateCache(context.Background(), "gemini-2.5-flash", "p", "short", time.Hour)
	checkErr(t, err, want{class: runtime.ClassFatal, status: 400, tooSmall: true, msg: "too small"})
}

func TestUpdateCacheTTL(t *testing.T) {
	f := newFake(t, reply(200, `{"name":"cachedContents/abc","expireTime":"2026-01-01T02:00:00Z"}`))
	if err := f.provider(t).UpdateCacheTTL(context.Background(), "cachedContents/abc", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Method != http.MethodPatch || r.Path != "/v1beta/cachedContents/abc" || getPath(r.Body, "ttl") != "7200s" {
		t.Errorf("request = %s %s %v", r.Method, r.Path, r.Body)
	}
}

func TestUpdateCacheTTLGone(t *testing.T) {
	f := newFake(t, reply(404, `{"error":{"code":404,"message":"CachedContent not found","status":"NOT_FOUND",
	  "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CACHED_CONTENT_NOT_FOUND"}]}}`))
	err := f.provider(t).UpdateCacheTTL(context.Background(), "cachedContents/abc", time.Hour)
	checkErr(t, err, want{class: runtime.ClassTransient, status: 404, cacheGone: true})
}

func TestDeleteCache(t *testing.T) {
	cases := []struct {
		name    string
		h       http.HandlerFunc
		wantErr bool
	}{
		{"ok", reply(200, `{}`), false},
		{"already gone", reply(404, `{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}`), false},
		{"gone, as the API says it", reply(403, `{"error":{"code":403,"message":"CachedContent not found (or permission denied)","status":"PERMISSION_DENIED"}}`), false},
		{"server error", reply(500, `{"error":{"code":500,"message":"internal","status":"INTERNAL"}}`), true},
		{"key refused", reply(403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.h)
			err := f.provider(t).DeleteCache(context.Background(), "cachedContents/abc")
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			var re *runtime.Error
			if c.wantErr && !errors.As(err, &re) {
				t.Errorf("err = %v (%T), want *runtime.Error", err, err)
			}
			r := f.requests()[0]
			if r.Method != http.MethodDelete || r.Path != "/v1beta/cachedContents/abc" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
		})
	}
}
