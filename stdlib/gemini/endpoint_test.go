package gemini

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// The transport is called directly for a plain client; a redirect must
// still be followed as http.Client follows it: a 307 re-posts the body.
func TestGenerateFollowsRedirect(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/moved/") {
			w.Header().Set("Location", "/moved"+r.URL.Path)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		reply(200, okBody)(w, r)
	})
	p := f.provider(t)
	req := &runtime.Request{Item: "r1", Model: "gemini-2.5-flash", Prompt: "hi", Timeout: 5 * time.Second}
	if _, err := p.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	var moved *recorded
	for _, r := range f.requests() {
		if strings.HasPrefix(r.Path, "/moved/") {
			moved = &r
		}
	}
	if moved == nil {
		t.Fatal("the redirect was not followed")
	}
	if moved.Method != http.MethodPost || moved.Body == nil || moved.Header.Get("X-Llmpipe-Item") != "r1" {
		t.Errorf("followed request: %s, body %v, item %q", moved.Method, moved.Body, moved.Header.Get("X-Llmpipe-Item"))
	}
}

// A transport error is wrapped as http.Client wraps it, so messages and
// errors.As targets stay what they were.
func TestGenerateTransportErrorWrapped(t *testing.T) {
	f := newFake(t, reply(200, okBody))
	p := f.provider(t)
	f.srv.Close() // nothing listens any more
	_, err := p.Generate(context.Background(), &runtime.Request{Item: "r1", Model: "gemini-2.5-flash", Prompt: "hi"})
	var ue *url.Error
	if !errors.As(err, &ue) || ue.Op != "Post" || !strings.HasSuffix(ue.URL, "/v1beta/models/gemini-2.5-flash:generateContent") {
		t.Fatalf("err = %v (%T), want a *url.Error for the POST", err, err)
	}
	var re *runtime.Error
	if !errors.As(err, &re) || !re.Unreachable {
		t.Errorf("err = %v, want an unreachable transient error", err)
	}
}
