//go:build unix

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// BenchmarkItem makes, per op, the store calls the runtime makes for a
// fresh item with one successful call: Lookup and CachedResponse (both
// misses), PutResponse, LogAttempt and Commit, from 64 goroutines (S1's
// workers). It reports the process's CPU per item (getrusage), the
// figure issue 18 bounds, and the file's size per item. nowait turns
// group commit's wait off.
func BenchmarkItem(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchItem(b, Options{}) })
	b.Run("nowait", func(b *testing.B) { benchItem(b, Options{MaxWait: -1}) })
}

func benchItem(b *testing.B, opts Options) {
	ctx := context.Background()
	s, path := openTemp(b, opts)
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p"})
	if err != nil {
		b.Fatal(err)
	}
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	fp := hash("step")
	out := json.RawMessage(`{"label":"positive","score":4}`)
	var n atomic.Int64
	b.SetParallelism(32) // 32 × GOMAXPROCS (2 here): 64 workers
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			item := fmt.Sprint("i", i)
			key := hash(item)
			if r, err := s.Lookup(ctx, "call", item, fp); err != nil || r != nil {
				b.Errorf("Lookup = %v, %v", r, err)
				return
			}
			if r, err := s.CachedResponse(ctx, key); err != nil || r != nil {
				b.Errorf("CachedResponse = %v, %v", r, err)
				return
			}
			resp := &runtime.Response{Text: string(out), Usage: runtime.Usage{PromptTokens: 9, OutputTokens: 8}, FinishReason: "STOP"}
			if err := s.PutResponse(ctx, key, resp); err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			a := &runtime.Attempt{RunID: runID, Step: "call", Item: item, Attempt: 1, Model: "gemini-2.5-flash-lite",
				RequestKey: key, Prompt: "Say something about " + item, Reply: resp.Text, Usage: resp.Usage,
				Status: "ok", Cost: runtime.Dollars(0.00001), Latency: time.Millisecond, At: now}
			if err := s.LogAttempt(ctx, a); err != nil {
				b.Error(err)
				return
			}
			res := &runtime.Result{RunID: runID, Step: "call", Item: item, Fingerprint: fp, Input: hash(item)[:32],
				OK: true, Output: out, Model: "gemini-2.5-flash-lite", Attempts: 1, Usage: resp.Usage,
				Cost: runtime.Dollars(0.00001), At: now}
			if err := s.Commit(ctx, res); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/item")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(fileSize(path))/float64(b.N), "B/item")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fileSize sums the store's files (the database, its WAL if any).
func fileSize(path string) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}
