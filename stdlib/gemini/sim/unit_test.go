package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestProtoDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{17 * time.Second, "17s"},
		{250 * time.Millisecond, "0.250s"},
		{1500*time.Millisecond + time.Microsecond, "1.501s"}, // rounds up
		{0, "0s"},
		{-time.Second, "0s"},
		{36 * time.Second, "36s"},
	} {
		if got := protoDuration(tc.d); got != tc.want {
			t.Errorf("protoDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if d, err := time.ParseDuration(tc.want); err != nil || d < tc.d {
			t.Errorf("%q parses to %v, %v", tc.want, d, err)
		}
	}
}

func TestAnalyzePrompt(t *testing.T) {
	for _, tc := range []struct {
		text             string
		runs, emails     string
		ints, dates, url string
	}{
		{"Extract: Maria Lopez, 34, maria@x.org", "Maria Lopez", "maria@x.org", "34", "", ""},
		{"The Eiffel Tower opened 1889-03-31 in Paris. See https://x.fr now", "Eiffel Tower", "", "", "1889-03-31", "https://x.fr"},
		{"Name: JOHN SMITH age 40 and NASA", "", "", "40", "", ""},
		{"Return JSON for Ann Lee and Bob Stone.", "Ann Lee|Bob Stone", "", "", "", ""},
	} {
		p := analyzePrompt(tc.text)
		got := []string{strings.Join(p.capRuns, "|"), strings.Join(p.emails, "|"), joinInts(p.ints), strings.Join(p.dates, "|"), strings.Join(p.urls, "|")}
		want := []string{tc.runs, tc.emails, tc.ints, tc.dates, tc.url}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: field %d = %q, want %q", tc.text, i, got[i], want[i])
			}
		}
	}
	if p := analyzePrompt(""); len(p.words) == 0 {
		t.Error("empty prompt has no fallback words")
	}
}

func joinInts(xs []int64) string {
	b, _ := json.Marshal(xs)
	return strings.Trim(string(b), "[]null")
}

func TestAppendStringIsValidJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tnew\nline\r", "\x00\x1f", "ünïcødé ✓", "</script>"} {
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != s {
			t.Errorf("appendString(%q) round-trips to %q, %v", s, back, err)
		}
	}
}

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want int
	}{{"abcdefghi", 3, 3}, {"ab", 3, 2}, {"", 3, 1}, {"ünï", 2, 2}} {
		parts := splitText(tc.in, tc.n)
		if len(parts) != tc.want || strings.Join(parts, "") != tc.in {
			t.Errorf("splitText(%q, %d) = %q", tc.in, tc.n, parts)
		}
	}
}

func TestParseSchemaOrder(t *testing.T) {
	raw := `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"integer"},"mid":{"type":"boolean"}}`
	for _, tc := range []struct {
		jsonSchema bool
		extra      string
		want       string
	}{
		{false, "", "alpha,mid,zeta"},
		{true, "", "zeta,alpha,mid"},
		{false, `,"propertyOrdering":["mid","zeta"]`, "mid,zeta,alpha"},
	} {
		s, err := parseSchema(json.RawMessage(raw+tc.extra+"}"), tc.jsonSchema)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range s.props {
			names = append(names, p.name)
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("jsonSchema=%v %s: order %s, want %s", tc.jsonSchema, tc.extra, got, tc.want)
		}
	}
}

func TestParseSchemaErrors(t *testing.T) {
	for _, raw := range []string{`{"type": 3}`, `{"$ref": "#/$defs/missing"}`, `{"properties": []}`, `[`} {
		if _, err := parseSchema(json.RawMessage(raw), true); err == nil {
			t.Errorf("parseSchema(%s) succeeded", raw)
		}
	}
	// A self-referencing schema is cut off rather than looping.
	if _, err := parseSchema(json.RawMessage(`{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`), true); err == nil {
		t.Error("recursive schema accepted")
	}
}

func TestLatencyDistribution(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Latency, cfg.LatencySigma = 100*time.Millisecond, 0.5
	cfg.LatencyTail = Tail{P: 0.1, Median: 2 * time.Second}
	var ds []time.Duration
	tail := 0
	for i := range 4000 {
		d := latency(&cfg, newHasher(1).u64(uint64(i)).rng(), 0)
		ds = append(ds, d)
		if d > time.Second {
			tail++
		}
	}
	below := 0
	for _, d := range ds {
		if d < 100*time.Millisecond {
			below++
		}
	}
	// About half below the median (the tail shifts a few up), about 10%
	// in the tail.
	if below < 1600 || below > 2000 || tail < 300 || tail > 500 {
		t.Errorf("%d of 4000 below the median, %d in the tail", below, tail)
	}
}
