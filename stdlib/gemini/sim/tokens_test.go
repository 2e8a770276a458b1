package sim

import (
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/interp/tokens"
)

func TestTextTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 2},
		{"hello world", 4},
		{"a b c", 3},
		{"日本語のテキスト", 8}, // one token per CJK character
		{"한국어", 3},
		{"Привет", 3},  // 12 bytes of letters
		{"😀", 2},       // 4 bytes
		{`{"a":1}`, 5}, // {" a ": 1 }
		{"x := y\n", 3},
	} {
		if got := textTokens(c.in); got != c.want {
			t.Errorf("textTokens(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	// Bytes/4 or runes/4 under-count CJK text: the point of the tokenizer.
	cjk := strings.Repeat("東京都の天気は晴れです。", 20)
	if n := textTokens(cjk); n < utf8.RuneCountInString(cjk) || n <= len(cjk)/4 {
		t.Errorf("CJK: %d tokens for %d runes, %d bytes", n, utf8.RuneCountInString(cjk), len(cjk))
	}
}

func TestTruncateTokens(t *testing.T) {
	for _, s := range []string{
		"The quick brown fox jumps over the lazy dog.",
		`{"name":"Maria Lopez","age":34,"tags":["a","b"]}`,
		"東京都の天気は晴れです。明日は雨。",
		"Привет, мир! 😀😀 naïve café",
	} {
		total := textTokens(s)
		for n := 0; n <= total+1; n++ {
			cut := truncateTokens(s, n)
			if !strings.HasPrefix(s, cut) || !utf8.ValidString(cut) {
				t.Fatalf("truncateTokens(%q, %d) = %q: not a valid prefix", s, n, cut)
			}
			if got := textTokens(cut); got > n {
				t.Errorf("truncateTokens(%q, %d) = %q has %d tokens", s, n, cut, got)
			}
			if n >= total && cut != s {
				t.Errorf("truncateTokens(%q, %d) = %q, want it whole", s, n, cut)
			}
		}
	}
}

func FuzzTruncateTokens(f *testing.F) {
	f.Add("hello, world", 2)
	f.Add("日本語 and English", 3)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || !utf8.ValidString(s) {
			return
		}
		cut := truncateTokens(s, n)
		if !strings.HasPrefix(s, cut) || textTokens(cut) > n {
			t.Fatalf("truncateTokens(%q, %d) = %q (%d tokens)", s, n, cut, textTokens(cut))
		}
	})
}

func TestThinking(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	budget := func(n int32) *genai.GenerateContentConfig {
		return &genai.GenerateContentConfig{ThinkingConfig: &genai.ThinkingConfig{ThinkingBudget: &n}}
	}
	thoughts := func(model string, cfg *genai.GenerateContentConfig) int {
		t.Helper()
		resp, err := generate(t, c, model, personPrompt, cfg)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		u := resp.UsageMetadata
		if u.TotalTokenCount != u.PromptTokenCount+u.CandidatesTokenCount+u.ThoughtsTokenCount {
			t.Errorf("%s: total %d is not prompt+candidates+thoughts in %+v", model, u.TotalTokenCount, u)
		}
		return int(u.ThoughtsTokenCount)
	}
	lite, pro := "gemini-2.5-flash-lite", "gemini-2.5-pro"
	if n := thoughts(flash, nil); n < 64 {
		t.Errorf("flash thinks by default: %d thoughts", n)
	}
	if n := thoughts(flash, budget(0)); n != 0 {
		t.Errorf("flash with budget 0: %d thoughts", n)
	}
	if n := thoughts(flash, budget(40)); n != 40 {
		t.Errorf("flash with budget 40: %d thoughts, want 40 (the draw is at least 64)", n)
	}
	if n := thoughts(lite, nil); n != 0 {
		t.Errorf("flash-lite does not think by default: %d thoughts", n)
	}
	if n := thoughts(lite, budget(100)); n < 1 || n > 100 {
		t.Errorf("flash-lite with budget 100: %d thoughts", n)
	}
	if n := thoughts(pro, nil); n < 64 {
		t.Errorf("pro: %d thoughts", n)
	}
	if n := thoughts("gemini-2.0-flash", nil); n != 0 {
		t.Errorf("2.0 flash does not think: %d", n)
	}
	_, err := generate(t, c, pro, "x", budget(0))
	if e := apiError(t, err); e.Code != 400 || !strings.Contains(e.Message, "only works in thinking mode") {
		t.Errorf("pro with budget 0: %+v", e)
	}

	// maxOutputTokens caps thoughts and answer together.
	resp, err := generate(t, c, flash, personPrompt, &genai.GenerateContentConfig{MaxOutputTokens: 30})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.UsageMetadata
	if resp.Candidates[0].FinishReason != genai.FinishReasonMaxTokens || u.ThoughtsTokenCount != 30 || u.CandidatesTokenCount != 0 || resp.Text() != "" {
		t.Errorf("thoughts over the cap: finish %q, usage %+v, text %q", resp.Candidates[0].FinishReason, u, resp.Text())
	}
	cfg := budget(40)
	cfg.MaxOutputTokens = 45
	cfg.ResponseMIMEType, cfg.ResponseSchema = "application/json", personSchema()
	resp, err = generate(t, c, flash, personPrompt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	u = resp.UsageMetadata
	if resp.Candidates[0].FinishReason != genai.FinishReasonMaxTokens || u.ThoughtsTokenCount != 40 || u.CandidatesTokenCount > 5 || u.CandidatesTokenCount == 0 {
		t.Errorf("answer cut by the cap: finish %q, usage %+v", resp.Candidates[0].FinishReason, u)
	}

	// The log and the stats carry the thoughts.
	var logged int64
	for _, e := range s.Log() {
		logged += int64(e.ThinkingTokens)
	}
	if st := s.Stats().Tokens; logged == 0 || st.Thinking != logged {
		t.Errorf("log has %d thinking tokens, stats %d", logged, st.Thinking)
	}
}

// llmpipe's estimator (interp/tokens), which the budget reserves input
// with, must never fall below what the simulated tokenizer counts, in any
// script: CJK, emoji, code and JSON included (issue 17).
func TestEstimateNeverBelowTheTokenizer(t *testing.T) {
	for _, s := range []string{
		"The quick brown fox jumps over the lazy dog.",
		strings.Repeat("東京都の天気は晴れです。明日は雨でしょう。", 30),
		"한국어 텍스트와 English mixed 日本語",
		"Привет, мир! Ελληνικά κείμενα. naïve café",
		"😀🎉👍🏽 emoji 🚀",
		"func main() {\n\tfmt.Println(\"hi\", x[i]+y[j]*2)\n}",
		`{"id":12345,"name":"Ada","tags":["a","b"],"score":0.93}`,
		"a b c d e f g 1 2 3 ; ; ;",
	} {
		if est, got := tokens.Estimate(s), textTokens(s); est < got {
			t.Errorf("Estimate(%q) = %d < the tokenizer's %d", s, est, got)
		}
	}
}

func FuzzEstimateNeverBelowTheTokenizer(f *testing.F) {
	f.Add("hello, world 42")
	f.Add("日本語と English")
	f.Add("😀 {\"a\":[1,2]}")
	f.Fuzz(func(t *testing.T, s string) {
		if est, got := tokens.Estimate(s), textTokens(s); est < got {
			t.Fatalf("Estimate(%q) = %d < the tokenizer's %d", s, est, got)
		}
	})
}
