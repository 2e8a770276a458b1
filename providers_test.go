package llmpipe_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

const mixedPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string
  age  int
}

model local {
  provider     = "openai"
  id           = "local-qwen"
  base_url     = "http://127.0.0.1:9/v1"
  input_price  = $0
  output_price = $0
  rpm          = 6000
}

ladder l = [local, "gemini-2.5-flash"]

step extract {
  from   = people
  models = l
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  retry {
    attempts       = 3
    escalate_after = 1
    feedback       = "Fix these: {{ join(map(failed, #.field), \", \") }}"
  }
}

sink out {
  from  = extract
  jsonl = "out.jsonl"
}
`

func peopleJSONL(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"p%d","text":"Person %d is %d years old"}`+"\n", i, i, 20+i%50)
	}
	return b.String()
}

// A ladder that starts on an OpenAI-compatible model and climbs to Gemini:
// every invalid first-rung reply escalates with feedback, each provider is
// billed at its own price, and each rung's calls reach its own surface.
func TestMixedProviderLadder(t *testing.T) {
	p := writePipeline(t, map[string]string{"main.llmp": mixedPipeline, "people.jsonl": peopleJSONL(40)})
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"local-qwen": 0.5}
	cfg.LogBodies = true
	sum, err, log := simRun(t, p, cfg, llmpipe.RunOptions{NoStore: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 40 || sum.Failed != 0 {
		t.Fatalf("succeeded %d failed %d, want 40 and 0", sum.Succeeded, sum.Failed)
	}
	esc := sum.Escalations["local-qwen -> gemini-2.5-flash"]
	if esc == 0 || sum.AnsweredBy["gemini-2.5-flash"] != esc || sum.AnsweredBy["local-qwen"] != 40-esc {
		t.Fatalf("escalations %v, answered by %v", sum.Escalations, sum.AnsweredBy)
	}
	var chat, gen int
	var geminiCost float64
	flash, _ := catalog.Lookup("gemini-2.5-flash")
	for _, e := range log {
		switch {
		case strings.HasSuffix(e.Path, "/chat/completions"):
			chat++
			if e.Model != "local-qwen" {
				t.Errorf("chat call for model %q", e.Model)
			}
		case isGenerate(e):
			gen++
			if e.Model != "gemini-2.5-flash" {
				t.Errorf("generateContent call for model %q", e.Model)
			}
			if e.Status == 200 {
				geminiCost += flash.Cost(logUsage(e)).Dollars()
			}
			// The escalated call carries the feedback naming what failed.
			if !strings.Contains(promptOf(t, e), "Fix these:") {
				t.Errorf("escalated prompt for %s has no feedback", e.Item)
			}
		}
	}
	// A reply cut at its output cap (a truncated answer) is asked again on
	// the same rung with a larger cap (issue 17): one more chat call each.
	cut := int(sum.ByClass["max_tokens"])
	if chat != 40+cut || int64(gen) != esc {
		t.Errorf("%d chat calls and %d generate calls, want %d and %d", chat, gen, 40+cut, esc)
	}
	// The local rung is free; the run costs what its Gemini calls cost.
	if diff := sum.Cost - geminiCost; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("cost %.9f, want the Gemini calls' %.9f", sum.Cost, geminiCost)
	}
	if m := sum.Models["local-qwen"]; m.Calls != int64(40+cut) {
		t.Errorf("pacer saw %d calls of local-qwen, want %d", m.Calls, 40+cut)
	}
}

// A cache on a step whose ladder has a non-Gemini model is refused at
// check time, with the reason.
func TestCacheOnOpenAIModelIsAnError(t *testing.T) {
	src := strings.Replace(mixedPipeline, "step extract {", "cache docs {\n  system = \"a long handbook\"\n}\n\nstep extract {\n  cache  = docs", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "main.llmp")
	os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte(peopleJSONL(1)), 0o644)
	os.WriteFile(path, []byte(src), 0o644)
	_, err := llmpipe.Load(path)
	if err == nil || !strings.Contains(err.Error(), `model "local" is served by provider "openai"`) {
		t.Fatalf("Load: %v, want the cache refused for the openai model", err)
	}
}

// A whole run on Vertex AI with a cache block, authenticated through
// Application Default Credentials faked by a service-account key whose
// token endpoint is the simulator's.
func TestVertexRunWithADCAndCache(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.KeepLog = true
	cfg.MinCacheTokens = 16
	srv, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sa := filepath.Join(t.TempDir(), "sa.json")
	if err := srv.WriteServiceAccount(sa); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", sa)
	t.Setenv("GOOGLE_VERTEX_BASE_URL", srv.URL())
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("GOOGLE_API_KEY", "")
	handbook := strings.Repeat("Refunds are granted within thirty days of purchase. ", 30)
	p := writePipeline(t, map[string]string{
		"main.llmp": `
config {
  provider = "vertex"
  project  = "vertex-test"
  location = "europe-west4"
}

source qs {
  lines = "q.txt"
}

cache handbook {
  system = file("handbook.md")
}

step answer {
  from   = qs
  models = "gemini-2.5-flash"
  cache  = handbook
  prompt = "Answer from the handbook: {{ item.text }}"
}
`,
		"q.txt":       "How long do refunds take?\nCan I return a gift?\nWho pays shipping?\n",
		"handbook.md": handbook,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := p.Start(ctx, llmpipe.RunOptions{NoStore: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != 3 || sum.CachesCreated != 1 || sum.Usage.CachedTokens == 0 {
		t.Fatalf("succeeded %d, caches created %d, cached tokens %d; want 3, 1, > 0", sum.Succeeded, sum.CachesCreated, sum.Usage.CachedTokens)
	}
	var token, vertexCalls int
	for _, e := range srv.Log() {
		switch {
		case e.Path == "/token":
			token++
		case strings.HasPrefix(e.Path, "/v1beta1/projects/vertex-test/locations/europe-west4/"):
			vertexCalls++
		case isGenerate(e):
			t.Errorf("a generate call outside the Vertex surface: %s", e.Path)
		}
	}
	if token == 0 || vertexCalls < 4 {
		t.Errorf("%d token exchanges and %d Vertex calls; want at least 1 and 4 (cache + 3 calls)", token, vertexCalls)
	}
}
