package gemini

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// Issue 19 item 2: a refused connection is transient and Unreachable (the
// endpoint is down, for the run's breaker); a reset after the request went
// out is transient but not Unreachable.
func TestUnreachableEndpoint(t *testing.T) {
	// A port that was listening and is not any more refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := New(context.Background(), Options{APIKey: "test-key", BaseURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Generate(context.Background(), &runtime.Request{Item: "x", Model: "gemini-2.5-flash", Prompt: "hi"})
	var re *runtime.Error
	if !errors.As(err, &re) || re.Class != runtime.ClassTransient || !re.Unreachable {
		t.Fatalf("refused connection: %#v, want a transient, Unreachable *runtime.Error", err)
	}

	f := newFake(t, http.HandlerFunc(resetConn))
	_, err = f.provider(t).Generate(context.Background(), &runtime.Request{Item: "x", Model: "gemini-2.5-flash", Prompt: "hi"})
	if !errors.As(err, &re) || re.Unreachable {
		t.Fatalf("reset: %#v, want an error that is not Unreachable", err)
	}
}
