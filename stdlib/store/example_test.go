package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(ctx, filepath.Join(dir, ".llmpipe", "summarize.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	run, _ := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "summarize.llmp"})
	_ = s.Commit(ctx, &runtime.Result{RunID: run, Step: "summarize", Item: "doc-1", Fingerprint: "f1",
		OK: true, Output: json.RawMessage(`{"summary":"short"}`)})
	_ = s.Close()

	// A later `llmpipe status` opens the same file read-only.
	ro, err := store.Open(ctx, filepath.Join(dir, ".llmpipe", "summarize.db"), store.Options{ReadOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ro.Close()
	res, _ := ro.Lookup(ctx, "summarize", "doc-1", "f1")
	fmt.Println(res.OK, string(res.Output))
	st, _ := ro.Status(ctx)
	fmt.Println(st.Runs, st.Steps[0].Step, st.Steps[0].Fingerprint("f1").Done)
	// Output:
	// true {"summary":"short"}
	// 1 summarize 1
}
