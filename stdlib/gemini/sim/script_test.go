package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestScript(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script.jsonl")
	script := `# first match wins
{"item": "a1", "model": "gemini-2.5-flash-lite", "call": 1, "text": "{\"age\": 34}"}
{"item": "a1", "model": "gemini-2.5-flash-lite", "call": 2, "status": 503, "message": "busy now"}
{"item": "a1", "call": 3, "status": 429, "retry_delay": "3s", "quota_id": "GenerateRequestsPerDayPerProjectPerModel"}
{"item": "b2", "text": "always b2", "delay": "30ms"}
{"item": "*", "model": "gemini-2.5-pro", "text": "pro says hi"}
{"item": "c3", "fault": "reset"}
`
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, func(c *Config) { c.ScriptFile = path })
	c := newClient(t, s)
	lite := "gemini-2.5-flash-lite"

	r, err := generate(t, c, lite, "x", withItem(nil, "a1"))
	if err != nil || r.Text() != `{"age": 34}` {
		t.Fatalf("call 1: %v %v", r, err)
	}
	if int(r.UsageMetadata.CandidatesTokenCount) != textTokens(`{"age": 34}`) {
		t.Errorf("scripted reply usage %+v", r.UsageMetadata)
	}
	_, err = generate(t, c, lite, "x", withItem(nil, "a1"))
	if e := apiError(t, err); e.Code != 503 || e.Message != "busy now" || e.Status != "UNAVAILABLE" {
		t.Errorf("call 2: %+v", e)
	}
	_, err = generate(t, c, lite, "x", withItem(nil, "a1"))
	e := apiError(t, err)
	if e.Code != 429 || retryDelay(t, e) != 3*time.Second || quotaViolation(t, e)["quotaId"] != "GenerateRequestsPerDayPerProjectPerModel" {
		t.Errorf("call 3: %+v", e)
	}
	// Call 4 matches nothing: a generated reply.
	r, err = generate(t, c, lite, "x", withItem(nil, "a1"))
	if err != nil || strings.Contains(r.Text(), "age") {
		t.Errorf("call 4: %v %v", r, err)
	}
	// Another model: a1's lines are for flash-lite only; the "*" line for
	// pro matches.
	r, err = generate(t, c, "gemini-2.5-pro", "x", withItem(nil, "a1"))
	if err != nil || r.Text() != "pro says hi" {
		t.Errorf("pro: %v %v", r, err)
	}
	start := time.Now()
	for range 2 {
		r, err = generate(t, c, lite, "x", withItem(nil, "b2"))
		if err != nil || r.Text() != "always b2" {
			t.Errorf("b2: %v %v", r, err)
		}
	}
	if el := time.Since(start); el < 60*time.Millisecond {
		t.Errorf("two 30ms-delayed replies took %v", el)
	}
	_, err = generate(t, c, lite, "x", withItem(nil, "c3"))
	transportError(t, err)

	var calls []int
	for _, e := range s.Log() {
		if e.Item == "a1" && e.Model == lite {
			calls = append(calls, e.Call)
		}
	}
	if len(calls) != 4 || calls[0] != 1 || calls[3] != 4 {
		t.Errorf("logged call numbers %v", calls)
	}
}

func TestLoadScriptErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"no item":       `{"text": "x"}`,
		"unknown field": `{"item": "a", "txt": "x"}`,
		"bad fault":     `{"item": "a", "fault": "explode"}`,
		"bad status":    `{"item": "a", "status": 200}`,
		"bad delay":     `{"item": "a", "delay": "soon"}`,
	}
	for name, line := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(path, []byte(line+"\n"), 0o644)
		if _, err := LoadScript(path); err == nil || !strings.Contains(err.Error(), ":1:") {
			t.Errorf("%s: err = %v, want one naming line 1", name, err)
		}
	}
}
