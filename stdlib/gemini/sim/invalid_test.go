package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genai"
)

// TestInvalidKinds asks for always-wrong answers and checks every kind
// shows up and is wrong in the way it claims.
func TestInvalidKinds(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Invalid = map[string]float64{flash: 1} })
	c := newClient(t, s)
	cfg := &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseSchema: personSchema()}
	enum := map[string]bool{"positive": true, "negative": true, "neutral": true}
	seen := map[string]int{}
	for i := 0; i < 120 && len(seen) < len(InvalidKinds); i++ {
		resp, err := generate(t, c, flash, fmt.Sprintf("%s (variant %d)", personPrompt, i), cfg)
		if err != nil {
			t.Fatal(err)
		}
		text := resp.Text()
		log := s.Log()
		kind := strings.TrimPrefix(log[len(log)-1].Kind, "invalid:")
		seen[kind]++
		var obj map[string]any
		jsonErr := json.Unmarshal([]byte(text), &obj)
		switch kind {
		case InvalidFence:
			if !strings.HasPrefix(text, "```json\n") || !strings.HasSuffix(text, "\n```") {
				t.Errorf("fence: %q", text)
			}
		case InvalidProse:
			if jsonErr == nil || !strings.Contains(text, "{") {
				t.Errorf("prose: %q", text)
			}
		case InvalidTruncated:
			if jsonErr == nil || resp.Candidates[0].FinishReason != genai.FinishReasonMaxTokens {
				t.Errorf("truncated: %q finish %q", text, resp.Candidates[0].FinishReason)
			}
		case InvalidMissing:
			if jsonErr != nil || len(obj) == 0 {
				t.Fatalf("missing: %q", text)
			}
			missing := false
			for _, k := range []string{"name", "age", "email", "sentiment"} {
				if _, ok := obj[k]; !ok {
					missing = true
				}
			}
			if !missing {
				t.Errorf("missing_required but all required present: %s", text)
			}
		case InvalidWrongType:
			ok := false
			if jsonErr == nil {
				for k, v := range obj {
					switch v.(type) {
					case string:
						ok = ok || k == "age" || k == "score" || k == "active" || k == "hobbies"
					case float64:
						ok = ok || k == "name" || k == "email" || k == "sentiment"
					}
				}
			}
			if !ok {
				t.Errorf("wrong_type not visible: %s", text)
			}
		case InvalidEnum:
			if s, _ := obj["sentiment"].(string); enum[s] {
				t.Errorf("out_of_enum kept %q", s)
			}
		case InvalidRange:
			age, _ := obj["age"].(float64)
			score, _ := obj["score"].(float64)
			if !(age == 212 || age == -3 || score > 1 || score < 0) {
				t.Errorf("out_of_range not visible: %s", text)
			}
		default:
			t.Errorf("unexpected kind %q", kind)
		}
	}
	for _, k := range InvalidKinds {
		if seen[k] == 0 {
			t.Errorf("kind %s never produced (seen %v)", k, seen)
		}
	}
	if st := s.Stats().Invalid; len(st) != len(InvalidKinds) {
		t.Errorf("Stats.Invalid = %v", st)
	}
}

// TestInvalidRateAndRetry checks the rate is about right, that a wrong
// answer repeats for the same request, and that a changed prompt (as a
// retry with feedback sends) may come back right.
func TestInvalidRateAndRetry(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Invalid = map[string]float64{"*": 0.3} })
	c := newClient(t, s)
	cfg := &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseSchema: personSchema()}
	wrong, fixed := 0, 0
	const n = 200
	for i := range n {
		prompt := fmt.Sprintf("%s #%d", personPrompt, i)
		r1, err := generate(t, c, flash, prompt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		log := s.Log()
		if !strings.HasPrefix(log[len(log)-1].Kind, "invalid:") {
			continue
		}
		wrong++
		r2, _ := generate(t, c, flash, prompt, cfg)
		if r2.Text() != r1.Text() {
			t.Fatalf("same request, different wrong answers: %q vs %q", r1.Text(), r2.Text())
		}
		if _, err := generate(t, c, flash, prompt+"\nYour previous answer was invalid JSON; fix it.", cfg); err == nil {
			log = s.Log()
			if !strings.HasPrefix(log[len(log)-1].Kind, "invalid:") {
				fixed++
			}
		}
	}
	if wrong < n*20/100 || wrong > n*40/100 {
		t.Errorf("%d of %d wrong, want about 30%%", wrong, n)
	}
	if fixed == 0 {
		t.Error("no retry with feedback ever came back right")
	}
}
