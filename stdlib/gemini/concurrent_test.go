package gemini

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// Per-call headers must not leak between concurrent calls sharing a client.
func TestGenerateConcurrentHeaders(t *testing.T) {
	f := newFake(t, reply(200, okBody))
	p := f.provider(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			item := fmt.Sprintf("item-%d", i)
			_, err := p.Generate(context.Background(), &runtime.Request{Item: item, Model: "gemini-2.5-flash", Prompt: "prompt for " + item})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != n {
		t.Fatalf("%d requests, want %d", len(reqs), n)
	}
	for _, r := range reqs {
		item := r.Header.Get("x-llmpipe-item")
		prompt, _ := getPath(r.Body, "contents", 0, "parts", 0, "text").(string)
		if item == "" || !strings.HasSuffix(prompt, " "+item) {
			t.Errorf("header %q on request with prompt %q", item, prompt)
		}
	}
}
