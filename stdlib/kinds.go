package stdlib

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// The registry of source and sink kinds, run-time half: one constructor
// per kind that interp's static registry (interp/kinds.go) specifies.
// Adding a kind is its spec there and its constructor here; a mismatch
// panics when the package loads, so no binary ships with a kind the
// checker accepts and nothing opens.

type (
	openSourceFunc func(ctx context.Context, src *interp.Source) (runtime.Source, error)
	openSinkFunc   func(ctx context.Context, sink *interp.Sink) (runtime.Sink, error)
)

var sourceOpeners = register("source", interp.SourceKinds(), map[string]openSourceFunc{
	"jsonl": func(_ context.Context, src *interp.Source) (runtime.Source, error) { return openJSONL(src) },
	"csv":   func(_ context.Context, src *interp.Source) (runtime.Source, error) { return openCSV(src) },
	"lines": func(_ context.Context, src *interp.Source) (runtime.Source, error) { return openLines(src) },
	"files": func(ctx context.Context, src *interp.Source) (runtime.Source, error) { return openFiles(ctx, src) },
	"json":  func(_ context.Context, src *interp.Source) (runtime.Source, error) { return openJSON(src) },
})

var sinkOpeners = register("sink", interp.SinkKinds(), map[string]openSinkFunc{
	"jsonl": func(_ context.Context, sink *interp.Sink) (runtime.Sink, error) { return openJSONLSink(sink) },
	"csv":   func(_ context.Context, sink *interp.Sink) (runtime.Sink, error) { return openCSVSink(sink) },
})

// register pairs each specified kind with its constructor. A kind without
// a constructor, or a constructor without a spec, is a wiring mistake and
// panics.
func register[F any](what string, kinds []interp.IOKind, open map[string]F) map[string]F {
	out := make(map[string]F, len(kinds))
	for _, k := range kinds {
		f, ok := open[k.Name]
		if !ok {
			panic(fmt.Sprintf("stdlib: %s kind %q has a spec in interp but no constructor", what, k.Name))
		}
		out[k.Name] = f
	}
	for name := range open {
		if _, ok := out[name]; !ok {
			panic(fmt.Sprintf("stdlib: %s kind %q has a constructor but no spec in interp", what, name))
		}
	}
	return out
}
