package llmpipe_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// These tests are issue 3's acceptance: each retry rule of the item state
// machine, proved from the simulator's request log (the ground truth of what
// was sent), not from the runner's own counters.

const (
	lite  = "gemini-2.5-flash-lite"
	flash = "gemini-2.5-flash"
	pro   = "gemini-2.5-pro"
)

const ladderPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string
  age  int
}

ladder rungs = ["gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"]

step extract {
  from   = people
  models = rungs
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  check age "must be between 0 and 130": output.age >= 0 && output.age <= 130

  retry {
    attempts       = 4
    escalate_after = 1
    backoff        = 1ms .. 5ms
    feedback       = """
      FEEDBACK passed=[{{ join(passed, ", ") }}]
      {{ for f in failed }}
      FAILED {{ f.field }}: {{ f.message }}
      {{ end }}
      """
  }
}

sink ok {
  from  = extract
  jsonl = "out/ok.jsonl"
}

sink bad {
  from  = extract.failed
  jsonl = "out/bad.jsonl"
}
`

const rateLimitDelay = 400 * time.Millisecond

// ladderScript gives each item of ladderPipeline one scenario.
func ladderScript() []sim.ScriptLine {
	good := `{"name":"Ann","age":30}`
	return []sim.ScriptLine{
		// ok: a control, answered at once.
		{Item: "ok", Text: good},
		// t503: overloaded once, then fine on the same rung.
		{Item: "t503", Model: lite, Call: 1, Status: 503, Message: "The model is overloaded."},
		{Item: "t503", Text: good},
		// inv: age is not an int, so the reply does not fit the schema.
		{Item: "inv", Model: lite, Call: 1, Text: `{"name":"Ann","age":"old"}`},
		{Item: "inv", Text: good},
		// chk: parses, but the age check fails.
		{Item: "chk", Model: lite, Call: 1, Text: `{"name":"Bob","age":200}`},
		{Item: "chk", Text: good},
		// exh: never parses, on any rung.
		{Item: "exh", Text: "I am not JSON"},
		// rl: a per-minute 429 with a retry delay, then fine.
		{Item: "rl", Model: lite, Call: 1, Status: 429, Message: "Resource has been exhausted (e.g. check quota).", RetryDelay: sim.Duration(rateLimitDelay)},
		{Item: "rl", Text: good},
	}
}

func ladderItems(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "{\"id\":%q,\"text\":\"Ann is 30, item %s\"}\n", id, id)
	}
	return b.String()
}

type call struct {
	model  string
	status int
}

func calls(es []sim.LogEntry) []call {
	out := make([]call, len(es))
	for i, e := range es {
		out[i] = call{e.Model, e.Status}
	}
	return out
}

func sameCalls(a, b []call) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSimLadderRules(t *testing.T) {
	p := writePipeline(t, map[string]string{
		"main.llmp":    ladderPipeline,
		"people.jsonl": ladderItems("ok", "t503", "inv", "chk", "exh", "poison", "rl"),
	})
	cfg := sim.DefaultConfig()
	cfg.Script = ladderScript()
	cfg.Poison = []string{"poison"}
	cfg.LogBodies = true
	sum, err, log := simRun(t, p, cfg, llmpipe.RunOptions{NoStore: true})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	byItem := callsByItem(log)
	dir := filepath.Dir(p.Path)
	ok := readSink(t, filepath.Join(dir, "out/ok.jsonl"))
	bad := readSink(t, filepath.Join(dir, "out/bad.jsonl"))

	wantCalls := map[string][]call{
		"ok":     {{lite, 200}},
		"t503":   {{lite, 503}, {lite, 200}},
		"inv":    {{lite, 200}, {flash, 200}},
		"chk":    {{lite, 200}, {flash, 200}},
		"exh":    {{lite, 200}, {flash, 200}, {pro, 200}, {pro, 200}},
		"poison": {{lite, 400}},
		"rl":     {{lite, 429}, {lite, 200}},
	}
	for id, want := range wantCalls {
		if got := calls(byItem[id]); !sameCalls(got, want) {
			t.Errorf("%s: simulator saw calls %v, want %v", id, got, want)
		}
	}
	if len(byItem) != len(wantCalls) {
		t.Errorf("simulator saw calls for %d items, want %d", len(byItem), len(wantCalls))
	}

	t.Run("503 retries on the same rung", func(t *testing.T) {
		r, found := ok["t503"]
		if !found || r.Meta.Model != lite || r.Meta.Rung != 0 || r.Meta.Attempts != 2 {
			t.Errorf("t503 record = %+v (found %v), want success on %s at rung 0 after 2 attempts", r.Meta, found, lite)
		}
	})

	// The climbing call's prompt must carry the rendered feedback: the
	// fields that passed, and each failed field with its message. The
	// first call must not.
	feedback := map[string][]string{
		"inv": {"FEEDBACK passed=[name]", "FAILED age:"},
		"chk": {"FEEDBACK passed=[name]", "FAILED age: must be between 0 and 130"},
	}
	for id, wants := range feedback {
		t.Run(id+" climbs with feedback", func(t *testing.T) {
			es := byItem[id]
			if len(es) != 2 {
				t.Fatalf("%d calls", len(es))
			}
			first, second := promptOf(t, es[0]), promptOf(t, es[1])
			if strings.Contains(first, "FEEDBACK") {
				t.Errorf("first call already has feedback: %q", first)
			}
			if !strings.Contains(second, "Extract the person: Ann is 30, item "+id) {
				t.Errorf("second call lost the original prompt: %q", second)
			}
			for _, w := range wants {
				if !strings.Contains(second, w) {
					t.Errorf("second call's prompt lacks %q:\n%s", w, second)
				}
			}
			if strings.Contains(second, "FAILED name") {
				t.Errorf("feedback names the passing field as failed:\n%s", second)
			}
			r, found := ok[id]
			if !found || r.Meta.Model != flash || r.Meta.Rung != 1 || r.Meta.Attempts != 2 {
				t.Errorf("record = %+v (found %v), want success on %s at rung 1 after 2 attempts", r.Meta, found, flash)
			}
		})
	}

	t.Run("attempts run out into a failed record with the errors", func(t *testing.T) {
		r, found := bad["exh"]
		if !found || r.Error == nil {
			t.Fatalf("no failed record for exh (ok has it: %v)", ok["exh"].ID != "")
		}
		if r.Error.Class != "invalid_output" || r.Meta.Attempts != 4 {
			t.Errorf("class %q after %d attempts, want invalid_output after 4", r.Error.Class, r.Meta.Attempts)
		}
		wantModels := []string{lite, flash, pro, pro}
		if len(r.Error.Errors) != len(wantModels) {
			t.Fatalf("%d attempt errors, want %d: %+v", len(r.Error.Errors), len(wantModels), r.Error.Errors)
		}
		for i, e := range r.Error.Errors {
			if e.Attempt != i+1 || e.Model != wantModels[i] || e.Class != "invalid_output" {
				t.Errorf("error %d = attempt %d on %s (%s), want attempt %d on %s (invalid_output)", i, e.Attempt, e.Model, e.Class, i+1, wantModels[i])
			}
		}
		if r.Error.LastReply != "I am not JSON" {
			t.Errorf("last reply %q", r.Error.LastReply)
		}
	})

	t.Run("poison 400 fails at once", func(t *testing.T) {
		r, found := bad["poison"]
		if !found || r.Error == nil {
			t.Fatal("no failed record for poison")
		}
		if r.Error.Class != "fatal" || r.Meta.Attempts != 1 || len(r.Error.Errors) != 1 {
			t.Errorf("class %q, %d attempts, %d errors; want fatal, 1, 1", r.Error.Class, r.Meta.Attempts, len(r.Error.Errors))
		}
	})

	t.Run("429 waits out retryDelay and is not an attempt", func(t *testing.T) {
		es := byItem["rl"]
		if len(es) != 2 {
			t.Fatalf("%d calls", len(es))
		}
		// Log times are admission times: the gap covers the 429's own
		// round trip too, so it can only be longer than the pause.
		gap := es[1].Time.Sub(es[0].Time)
		t.Logf("retry came %v after the 429 (retryDelay %v)", gap, rateLimitDelay)
		if gap < rateLimitDelay {
			t.Errorf("next call %v after the 429, want at least %v", gap, rateLimitDelay)
		}
		r, found := ok["rl"]
		if !found || r.Meta.Attempts != 1 || r.Meta.Model != lite {
			t.Errorf("rl record = %+v (found %v), want success on %s in 1 attempt", r.Meta, found, lite)
		}
	})

	// Run-wide: every call but the 429 is an attempt, and the 429 is
	// counted as a rate limit.
	var generate, limited int64
	for _, e := range log {
		if isGenerate(e) {
			generate++
			if e.Status == 429 {
				limited++
			}
		}
	}
	if sum.Attempts != generate-limited || sum.RateLimited != limited || limited != 1 {
		t.Errorf("summary: %d attempts, %d rate limited; simulator: %d calls of which %d were 429s",
			sum.Attempts, sum.RateLimited, generate, limited)
	}
	if sum.Succeeded != 5 || sum.Failed != 2 {
		t.Errorf("summary: %d ok, %d failed; want 5 and 2", sum.Succeeded, sum.Failed)
	}
}
