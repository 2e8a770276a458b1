package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// BenchmarkCommit measures durable commits per second with many concurrent
// committers, as a run with many workers makes them.
func BenchmarkCommit(b *testing.B) {
	b.Run("results", func(b *testing.B) { benchCommit(b, false) })
	// As the runtime does it: a journaled attempt per result.
	b.Run("with-attempt", func(b *testing.B) { benchCommit(b, true) })
}

func benchCommit(b *testing.B, attempt bool) {
	ctx := context.Background()
	s, _ := openTemp(b, Options{})
	out := json.RawMessage(`{"summary":"a short summary of the item, about as long as a real one","score":4}`)
	var n atomic.Int64
	b.SetParallelism(32) // 32 × GOMAXPROCS committers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			item := fmt.Sprint(n.Add(1))
			if attempt {
				a := &runtime.Attempt{Step: "s", Item: item, Attempt: 1, Model: "m", Prompt: "prompt text", Reply: string(out), Status: "ok"}
				if err := s.LogAttempt(ctx, a); err != nil {
					b.Error(err)
					return
				}
			}
			err := s.Commit(ctx, &runtime.Result{Step: "s", Item: item, Fingerprint: "f", OK: true, Output: out, Model: "m", Attempts: 1})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
}
