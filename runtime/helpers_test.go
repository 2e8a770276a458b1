package runtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/funcs"
)

// compile writes files into a temp dir and checks main.llmp.
func compile(t testing.TB, files map[string]string) *interp.Program {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "main.llmp")
	src := []byte(files["main.llmp"])
	f, d := lang.Parse(path, src)
	if !d.HasErrors() {
		var prog *interp.Program
		prog, cd := interp.Check(f, &interp.Options{Funcs: funcs.All()})
		d = append(d, cd...)
		if !d.HasErrors() {
			return prog
		}
	}
	var b strings.Builder
	d.Fprint(&b, map[string][]byte{path: src}, lang.PrintOptions{})
	t.Fatalf("pipeline does not check:\n%s", b.String())
	return nil
}

// fakeProvider answers with a function; it records every request.
type fakeProvider struct {
	mu    sync.Mutex
	reqs  []*runtime.Request
	reply func(req *runtime.Request, n int) (*runtime.Response, error) // n: 1-based call count for (item, model)
	calls map[string]int
}

func (f *fakeProvider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[req.Item+"/"+req.Model]++
	n := f.calls[req.Item+"/"+req.Model]
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.reply(req, n)
}

func (f *fakeProvider) requests() []*runtime.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*runtime.Request(nil), f.reqs...)
}

func textReply(s string) *runtime.Response {
	return &runtime.Response{Text: s, Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 5}}
}

func options(p runtime.Provider) runtime.Options {
	return runtime.Options{Provider: p, OpenSource: stdlib.OpenSource, OpenSink: stdlib.OpenSink, Seed: 1}
}

// readJSONL reads every record of a sink file.
func readJSONL(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
