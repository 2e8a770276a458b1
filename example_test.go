package llmpipe_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
)

// Embedding llmpipe: load a pipeline, watch its events, wrap every item in
// middleware, and run it against the built-in simulator.
func Example() {
	dir, _ := os.MkdirTemp("", "llmpipe-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "words.txt"), []byte("apple\nbanana\ncherry\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "job.llmp"), []byte(`
source words {
  lines = "words.txt"
}

step describe {
  from   = words
  models = ["gemini-2.5-flash-lite"]
  prompt = "Describe {{ item.text }} in five words."
  check "must not be empty": len(trim(text)) > 0
}

sink out {
  from  = describe
  jsonl = "out/descriptions.jsonl"
}
`), 0o644)

	p, err := llmpipe.Load(filepath.Join(dir, "job.llmp"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var succeeded atomic.Int64
	var seen atomic.Int64
	sum, err := p.Run(context.Background(), llmpipe.RunOptions{
		Sim:     true,
		NoStore: true,
		// The run's own settings, passed to the runtime as they are.
		Settings: runtime.Settings{
			Observers: []runtime.Observer{runtime.ObserverFunc(func(e runtime.Event) {
				if e.Kind == runtime.EventItemSucceeded {
					succeeded.Add(1)
				}
			})},
			Middleware: []runtime.Middleware{runtime.MiddlewareFuncs{
				BeforeFunc: func(ctx context.Context, step string, rec *runtime.Record) (bool, error) {
					seen.Add(1)
					return false, nil // false: do not skip the item
				},
			}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("outcome:", sum.Outcome)
	fmt.Println("items ok:", sum.Succeeded, "failed:", sum.Failed)
	fmt.Println("events seen:", succeeded.Load(), "middleware saw:", seen.Load())
	// Output:
	// outcome: completed
	// items ok: 3 failed: 0
	// events seen: 3 middleware saw: 3
}
