package stdlib

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// benchLines is the size of the benchmark's jsonl file: the figure the
// design asks about (≥ 500k lines/s on a 1M-line file).
const benchLines = 1_000_000

// writeBenchJSONL writes n lines shaped like a typical input record.
func writeBenchJSONL(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, `{"id":%d,"name":"Person %d","age":%d,"text":"Lives in town number %d and likes tea."}`+"\n", i, i, 20+i%60, i%1000)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkSourceJSONL(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	writeBenchJSONL(b, path, benchLines)
	src := &interp.Source{Name: "bench", Kind: "jsonl", Path: path}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		s, err := OpenSource(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			it, err := s.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || it.Err != nil {
				b.Fatal(err, it.Err)
			}
			n++
		}
		s.Close()
		if n != benchLines {
			b.Fatalf("read %d lines, want %d", n, benchLines)
		}
	}
	b.ReportMetric(float64(b.N*benchLines)/time.Since(start).Seconds(), "lines/s")
	// On a shared machine wall time says little; CPU time is the process's
	// own (it includes the GC's other threads, so it is a pessimistic figure).
	b.ReportMetric(float64(b.N*benchLines)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
}

// cpuTime is the user+system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkSinkJSONL(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.jsonl")
	s, err := OpenSink(context.Background(), &interp.Sink{Name: "out", Kind: "jsonl", Path: path})
	if err != nil {
		b.Fatal(err)
	}
	rec := sampleRecord()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		if err := s.Write(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// sampleRecord is a successful record of a two-step pipeline.
func sampleRecord() *runtime.Record {
	return &runtime.Record{
		ID:   "p-42",
		Item: map[string]any{"id": "p-42", "text": "Ann Lee, 34, <ann@example.com>, likes tea & cake"},
		Outputs: map[string]any{
			"extract": map[string]any{"name": "Ann Lee", "age": 34, "email": "ann@example.com", "tags": []any{"tea", "cake"}},
			"summary": "Ann likes tea.",
		},
		Order:    []string{"extract", "summary"},
		Step:     "summary",
		Model:    "gemini-2.5-flash",
		Rung:     1,
		Attempts: 2,
		Usage:    runtime.Usage{PromptTokens: 120, OutputTokens: 30, CachedTokens: 100, ThinkingTokens: 5},
		Cost:     runtime.Dollars(0.000125),
		Plan:     1,
	}
}
