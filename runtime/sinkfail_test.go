package runtime_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// fullSink is a sink on a disk that fills up after n records.
type fullSink struct {
	runtime.Sink
	left *atomic.Int64
}

func (s fullSink) Write(ctx context.Context, rec *runtime.Record) error {
	if s.left.Add(-1) < 0 {
		return syscall.ENOSPC
	}
	return s.Sink.Write(ctx, rec)
}

// Issue 19 item 3: a sink write error (disk full) stops the run, but every
// reply paid for is in the store first, and the next run delivers it
// without calling again.
func TestSinkErrorKeepsPaidResults(t *testing.T) {
	const n = 40
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(n)})
	ctx := context.Background()
	run := func(left int64) (*runtime.Summary, []*runtime.Request, error) {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
			time.Sleep(time.Millisecond) // keep calls in flight when the disk fills
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Store, opts.Workers = st, 8
		if left >= 0 {
			var l atomic.Int64
			l.Store(left)
			opts.OpenSink = func(ctx context.Context, def *interp.Sink) (runtime.Sink, error) {
				s, err := stdlib.OpenSink(ctx, def)
				if err != nil {
					return nil, err
				}
				return fullSink{s, &l}, nil
			}
		}
		sum, err := runtime.Run(ctx, prog, opts)
		return sum, fp.requests(), err
	}
	_, first, err := run(3)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("run on a full disk: %v, want ENOSPC", err)
	}
	if len(first) == 0 {
		t.Fatal("no calls before the disk filled")
	}
	called := map[string]bool{}
	for _, r := range first {
		called[r.Item] = true
	}
	sum, second, err := run(-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range second {
		if called[r.Item] {
			t.Errorf("item %s was called again after the disk filled: its paid result was lost", r.Item)
		}
	}
	if sum.Resumed != int64(len(called)) {
		t.Errorf("resumed %d, want the %d items called before the disk filled", sum.Resumed, len(called))
	}
	if got := len(readJSONL(t, prog.Dir+"/out/ok.jsonl")); got != n {
		t.Errorf("sink holds %d records after the resume, want %d", got, n)
	}
}
