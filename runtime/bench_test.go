package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// instantProvider answers at once without HTTP: the scheduler alone (S1).
type instantProvider struct{ resp runtime.Response }

func (p *instantProvider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	r := p.resp
	return &r, nil
}

// BenchmarkSchedulerOnly measures items/s and per-item cost of the whole
// runtime path (source → step → checks → sink) with an in-process provider.
func BenchmarkSchedulerOnly(b *testing.B) {
	const items = 100_000
	var sb strings.Builder
	for i := 0; i < items; i++ {
		fmt.Fprintf(&sb, "{\"id\":\"i%d\",\"text\":\"item number %d\"}\n", i, i)
	}
	prog := compile(b, map[string]string{"main.llmp": `
source s {
  jsonl = "in.jsonl"
  id    = item.id
}

schema Out {
  label "a" | "b"
  score int
}

step classify {
  from   = s
  models = ["gemini-2.5-flash-lite"]
  output = Out
  prompt = "Classify: {{ item.text }}"
  check score "must be positive": output.score > 0
}

sink out {
  from  = classify
  jsonl = "out/out.jsonl"
}

config {
  workers = 64
}
`, "in.jsonl": sb.String()})
	p := &instantProvider{resp: runtime.Response{Text: `{"label":"a","score":3}`, Usage: runtime.Usage{PromptTokens: 12, OutputTokens: 6}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := runtime.Run(context.Background(), prog, options(p))
		if err != nil || sum.Succeeded != items {
			b.Fatalf("err %v, ok %d", err, sum.Succeeded)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(items*b.N)/1000, "µs/item")
	os.RemoveAll(filepath.Join(prog.Dir, "out"))
}
