package gemini

import (
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// TestIssue19ItemIDsAnyBytes: an item id travels in the x-llmpipe-item
// header, so ids with control characters, leading spaces, non-ASCII or
// great length must be encoded to run at all, and the simulator must see
// the id the pipeline has (or, for a long id, the same key every time).
func TestIssue19ItemIDsAnyBytes(t *testing.T) {
	long := strings.Repeat("x", 2<<20) // past net/http's 1 MB header limit
	ids := []string{"two\nlines", " padded ", "tab\there", "ünï\x00cödé", "100%", "%sha256:abc", long}
	var srv *sim.Server
	p := startSimServer(t, func(c *sim.Config) {
		c.ItemSuccesses = true
		c.Script = []sim.ScriptLine{{Item: "two\nlines", Text: "scripted"}}
	}, &srv)
	for _, id := range ids {
		resp, err := p.Generate(simCtx(t), &runtime.Request{Item: id, Model: "gemini-2.5-flash-lite", Prompt: "Say hello."})
		if err != nil {
			t.Fatalf("Generate(item %.40q): %v", id, err)
		}
		if id == "two\nlines" && resp.Text != "scripted" {
			t.Errorf("item %q: text %q, want the scripted reply (the simulator must decode the id)", id, resp.Text)
		}
	}
	got := srv.Stats().Successes
	for _, id := range ids[:len(ids)-1] {
		if got[id] != 1 {
			t.Errorf("simulator counted %d successes for %q, want 1 (successes: %q)", got[id], id, keys(got))
		}
	}
	if len(got) != len(ids) {
		t.Errorf("simulator saw %d distinct items, want %d", len(got), len(ids))
	}
}

func keys(m map[string]int64) []string {
	var out []string
	for k := range m {
		if len(k) > 80 {
			k = k[:80] + "…"
		}
		out = append(out, k)
	}
	return out
}
