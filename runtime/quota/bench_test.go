package quota

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAcquireUnlimited is the scheduler's hot path when no quota is
// set: it must be nearly free and allocate nothing.
func BenchmarkAcquireUnlimited(b *testing.B) {
	l := New(Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := l.Acquire(ctx, "m", 500)
			if err != nil {
				b.Fatal(err)
			}
			p.Done(500, time.Millisecond)
		}
	})
}

// BenchmarkAcquireLimited measures the locked path: limits are set but so
// high that no call waits.
func BenchmarkAcquireLimited(b *testing.B) {
	l := New(Options{})
	l.SetLimits("m", Limits{RPM: 1 << 40, TPM: 1 << 50, RPD: 1 << 50, Concurrency: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := l.Acquire(ctx, "m", 500)
			if err != nil {
				b.Fatal(err)
			}
			p.Done(500, time.Millisecond)
		}
	})
}

// BenchmarkAcquireLimitedSerial is the locked path without contention.
func BenchmarkAcquireLimitedSerial(b *testing.B) {
	l := New(Options{})
	l.SetLimits("m", Limits{RPM: 1 << 40, TPM: 1 << 50, Concurrency: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := l.Acquire(ctx, "m", 500)
		if err != nil {
			b.Fatal(err)
		}
		p.Done(500, time.Millisecond)
	}
}
