package gemini

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// These benchmarks put a figure on what one Generate costs in CPU, which
// bounds S1 end to end on a 2-core machine. They report cpu-µs/op from
// getrusage (the whole process: client, server and GC), because wall time
// on a shared machine says little.
//
//   - sim: the provider against the simulator with zero latency.
//   - canned: the provider against a handler that returns a fixed body, so
//     nearly all the CPU is the client (the provider + net/http).
//   - rawhttp: a bare net/http POST of a similar body to the same handler:
//     the floor under any client, so canned − rawhttp is what the provider adds.

const cannedReply = `{"candidates":[{"content":{"parts":[{"text":"{\"label\":\"a\",\"score\":3}"}],"role":"model"},"finishReason":"STOP","index":0}],` +
	`"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":6,"totalTokenCount":18},"modelVersion":"gemini-2.5-flash-lite","responseId":"x"}`

func cannedServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, cannedReply)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchRequest() *runtime.Request {
	return &runtime.Request{
		Item: "i1", Model: "gemini-2.5-flash-lite",
		Prompt:   "Classify: item number 12345",
		SchemaID: "out-v1",
		Schema: map[string]any{
			"type":             "OBJECT",
			"required":         []any{"label", "score"},
			"propertyOrdering": []any{"label", "score"},
			"properties": map[string]any{
				"label": map[string]any{"type": "STRING", "enum": []any{"a", "b"}},
				"score": map[string]any{"type": "INTEGER"},
			},
		},
		MaxOutputTokens: 8192,
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runCPU runs op b.N times over conc goroutines and reports CPU per op.
func runCPU(b *testing.B, op func() error) {
	b.ReportAllocs()
	b.SetParallelism(8) // 16 goroutines on 2 cores: enough to keep both busy
	b.ResetTimer()
	cpu0 := cpuNow()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func newBenchProvider(b *testing.B, url string) *Provider {
	p, err := New(context.Background(), Options{APIKey: "bench", BaseURL: url})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkGenerate(b *testing.B) {
	ctx := context.Background()
	b.Run("sim", func(b *testing.B) {
		cfg := sim.DefaultConfig()
		cfg.RPM = map[string]int{"*": 1 << 30}
		s, err := sim.Start(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		p := newBenchProvider(b, s.URL())
		runCPU(b, func() error { _, err := p.Generate(ctx, benchRequest()); return err })
	})
	b.Run("canned", func(b *testing.B) {
		p := newBenchProvider(b, cannedServer(b).URL+"/")
		runCPU(b, func() error { _, err := p.Generate(ctx, benchRequest()); return err })
	})
	b.Run("rawhttp", func(b *testing.B) {
		srv := cannedServer(b)
		c := &http.Client{Transport: pooledTransport()}
		defer c.CloseIdleConnections()
		body := []byte(`{"contents":[{"parts":[{"text":"Classify: item number 12345"}],"role":"user"}],"generationConfig":{"maxOutputTokens":8192,` +
			`"responseMimeType":"application/json","responseSchema":{"properties":{"label":{"enum":["a","b"],"type":"STRING"},"score":{"type":"INTEGER"}},"required":["label","score"],"type":"OBJECT"}}}`)
		url := srv.URL + "/v1beta/models/gemini-2.5-flash-lite:generateContent"
		runCPU(b, func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-goog-api-key", "bench")
			req.Header.Set("x-llmpipe-item", "i1")
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		})
	})
}
