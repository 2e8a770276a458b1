package catalog

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"gemini-2.5-flash", "gemini-2.5-flash", true},
		{"models/gemini-2.5-flash", "gemini-2.5-flash", true},
		{"gemini-2.5-flash-001", "gemini-2.5-flash", true},
		{"gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash", true},
		{"gemini-2.5-flash-lite", "gemini-2.5-flash-lite", true},
		{"gemini-2.5-flash-lite-preview-09-2025", "gemini-2.5-flash-lite", true},
		{"models/gemini-2.5-pro", "gemini-2.5-pro", true},
		{"Gemini-2.5-Pro", "gemini-2.5-pro", true},
		{"gemini-2.0-flash-lite-001", "gemini-2.0-flash-lite", true},
		{"gemini-3-pro-preview", "gemini-3-pro-preview", true},
		{"gemini-2.5-flash-exp-0827", "gemini-2.5-flash", true},
		{"gemini-2.5-pro-latest", "gemini-2.5-pro", true},
		{"gemini-2.5-flashy", "", false},              // a prefix must end at a '-'
		{"gemini-2.5-flash-image", "", false},         // another model, other prices
		{"gemini-2.5-flash-image-preview", "", false}, // likewise
		{"gemini-2.5-flash-", "", false},
		{"gemini-2.5", "", false},
		{"gpt-4o", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		m, ok := Lookup(c.in)
		if ok != c.wantOK || m.ID != c.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", c.in, m.ID, ok, c.want, c.wantOK)
		}
	}
}

func TestLimits(t *testing.T) {
	flash, _ := Lookup("gemini-2.5-flash")
	lite, _ := Lookup("gemini-2.5-flash-lite")
	pro, _ := Lookup("gemini-2.5-pro")
	g3, _ := Lookup("gemini-3-flash-preview")
	cases := []struct {
		name string
		m    Model
		tier int
		want Limits
	}{
		{"flash free", flash, 0, Limits{RPM: 10, TPM: 250000, RPD: 20}},
		{"flash tier1", flash, 1, Limits{RPM: 1000, TPM: 1000000, RPD: 10000}},
		{"flash tier3", flash, 3, Limits{RPM: 10000, TPM: 8000000}},
		{"lite tier2", lite, 2, Limits{RPM: 10000, TPM: 10000000}},
		{"pro free", pro, 0, Limits{RPM: 2, TPM: 125000, RPD: 50}},
		{"pro tier2", pro, 2, Limits{RPM: 1000, TPM: 5000000, RPD: 50000}},
		{"unknown tier", pro, 4, Limits{}},
		{"negative tier", pro, -1, Limits{}},
		{"no published table", g3, 1, Limits{}},
	}
	for _, c := range cases {
		if got := c.m.Limits(c.tier); got != c.want {
			t.Errorf("%s: Limits(%d) = %+v, want %+v", c.name, c.tier, got, c.want)
		}
	}
}

func TestTableIsComplete(t *testing.T) {
	ids := IDs()
	if len(ids) < 3 || !strings.HasPrefix(ids[0], "gemini-") {
		t.Fatalf("IDs() = %v", ids)
	}
	for _, id := range ids {
		m, _ := Lookup(id)
		if m.Price.InputPerM <= 0 || m.Price.OutputPerM <= m.Price.InputPerM {
			t.Errorf("%s: implausible price %+v", id, m.Price)
		}
		if m.Caching && (m.Price.CachedPerM <= 0 || m.Price.CachedPerM >= m.Price.InputPerM || m.Price.StoragePerMHour <= 0) {
			t.Errorf("%s: caching prices %+v", id, m.Price)
		}
	}
	for _, id := range []string{"gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"} {
		m, ok := Lookup(id)
		if !ok || m.Limits(1).RPM == 0 || m.MinCacheTokens == 0 {
			t.Errorf("%s: missing from table, or without tier-1 limits or cache minimum: %+v", id, m)
		}
	}
}

func TestParseRejectsMistakes(t *testing.T) {
	cases := []struct{ name, json string }{
		{"misspelt key", `{"models":{"m":{"price":{"inptu":1},"min_cache_tokens":1}}}`},
		{"unknown tier", `{"models":{"m":{"price":{"input":1},"min_cache_tokens":1,"limits":{"tier9":{}}}}}`},
		{"cache minimum missing", `{"models":{"m":{"price":{"input":1}}}}`},
		{"long tier without threshold", `{"models":{"m":{"price":{"input":1},"min_cache_tokens":1,"long_context":{"price":{"input":2}}}}}`},
	}
	for _, c := range cases {
		if _, err := parse([]byte(c.json)); err == nil {
			t.Errorf("%s: parse accepted %s", c.name, c.json)
		}
	}
}

// near compares dollar amounts to a billionth of a cent.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-11 }

func TestCost(t *testing.T) {
	flash, _ := Lookup("gemini-2.5-flash")
	pro, _ := Lookup("gemini-2.5-pro")
	lite, _ := Lookup("gemini-2.5-flash-lite")
	cases := []struct {
		name string
		m    Model
		u    runtime.Usage
		want float64
	}{
		// 1M fresh input on Flash is $0.30 exactly.
		{"flash input only", flash, runtime.Usage{PromptTokens: 1_000_000}, 0.30},
		// 10,000 prompt of which 8,000 cached: 2,000×0.30 + 8,000×0.03 = 0.0006 + 0.00024;
		// 500 output + 1,500 thinking at 2.50 = 0.005. Total $0.00584.
		{"flash cached and thinking", flash,
			runtime.Usage{PromptTokens: 10_000, CachedTokens: 8_000, OutputTokens: 500, ThinkingTokens: 1_500}, 0.00584},
		// Flash-Lite: 1,200 in, 80 out = 0.00012 + 0.000032.
		{"lite small call", lite, runtime.Usage{PromptTokens: 1_200, OutputTokens: 80}, 0.000152},
		// Pro at exactly 200k stays on the lower tier: 200,000×1.25 + 1,000×10 = 0.25 + 0.01.
		{"pro at threshold", pro, runtime.Usage{PromptTokens: 200_000, OutputTokens: 1_000}, 0.26},
		// Above 200k the whole call moves up: 250,000×2.50 + 1,000×15 = 0.625 + 0.015.
		{"pro long context", pro, runtime.Usage{PromptTokens: 250_000, OutputTokens: 1_000}, 0.64},
		// Long tier with a cache: 50,000 fresh×2.50 + 200,000 cached×0.25 + 2,000×15
		// = 0.125 + 0.05 + 0.03.
		{"pro long cached", pro, runtime.Usage{PromptTokens: 250_000, CachedTokens: 200_000, OutputTokens: 2_000}, 0.205},
		{"zero usage", pro, runtime.Usage{}, 0},
		// A bogus report of more cached than prompt tokens is not negative input.
		{"cached over prompt", flash, runtime.Usage{PromptTokens: 100, CachedTokens: 1_000}, 100 * 0.03 / 1e6},
	}
	for _, c := range cases {
		// Exact to the nano-dollar, not merely near (issue 19 item 18).
		if got := c.m.Cost(c.u); got != runtime.Dollars(c.want) {
			t.Errorf("%s: Cost = %s, want %.12f", c.name, got, c.want)
		}
	}
}

func TestCostWithOverridePrice(t *testing.T) {
	p := interp.Price{InputPerM: 1, OutputPerM: 2, CachedPerM: 0.5}
	got := Cost(p, runtime.Usage{PromptTokens: 3_000_000, CachedTokens: 1_000_000, OutputTokens: 1_000_000})
	if got != runtime.Dollars(2+0.5+2) {
		t.Errorf("Cost = %v, want 4.5", got)
	}
}

func TestStorageCost(t *testing.T) {
	flash, _ := Lookup("gemini-2.5-flash")
	pro, _ := Lookup("gemini-2.5-pro")
	cases := []struct {
		name   string
		p      interp.Price
		tokens int
		d      time.Duration
		want   float64
	}{
		{"flash 1M for 1h", flash.Price, 1_000_000, time.Hour, 1.00},
		{"flash 5k for 90m", flash.Price, 5_000, 90 * time.Minute, 0.0075},
		{"pro 10k for 2h", pro.Price, 10_000, 2 * time.Hour, 0.09},
		{"nothing stored", pro.Price, 0, time.Hour, 0},
		{"no time", pro.Price, 10_000, 0, 0},
	}
	for _, c := range cases {
		if got := StorageCost(c.p, c.tokens, c.d); !near(got, c.want) {
			t.Errorf("%s: StorageCost = %.12f, want %.12f", c.name, got, c.want)
		}
	}
}

func TestThinks(t *testing.T) {
	zero, some, dynamic := 0, 512, -1
	cases := []struct {
		id     string
		budget *int
		want   bool
	}{
		{"gemini-2.5-flash", nil, true},
		{"gemini-2.5-flash", &zero, false},
		{"gemini-2.5-flash", &dynamic, true},
		{"gemini-2.5-flash-lite", nil, false},
		{"gemini-2.5-flash-lite", &some, true},
		{"gemini-2.5-flash-lite", &dynamic, true},
		{"gemini-2.5-pro", nil, true},
		{"gemini-2.5-pro", &zero, true}, // refused by the API, never thinking-free
		{"gemini-2.0-flash", &some, false},
	}
	for _, c := range cases {
		m, _ := Lookup(c.id)
		if got := m.Thinks(c.budget); got != c.want {
			t.Errorf("%s.Thinks(%v) = %v, want %v", c.id, c.budget, got, c.want)
		}
	}
}

func TestMinCacheTokens(t *testing.T) {
	for id, want := range map[string]int{
		"gemini-2.5-flash":      2048,
		"gemini-2.0-flash":      4096,
		"models/gemini-2.5-pro": 2048,
		"my-own-model":          FallbackMinCacheTokens,
	} {
		if got := MinCacheTokens(id); got != want {
			t.Errorf("MinCacheTokens(%q) = %d, want %d", id, got, want)
		}
	}
}

// Adding up many calls stays exact: float dollars would drift
// (0.000013400000000000002), nano-dollars do not (issue 19 item 18).
func TestCostAddsUpExactly(t *testing.T) {
	lite, _ := Lookup("gemini-2.5-flash-lite")
	var sum runtime.Money
	for range 1000 {
		sum += lite.Cost(runtime.Usage{PromptTokens: 134}) // 134 × $0.10/1M = $0.0000134
	}
	if sum != runtime.Dollars(0.0134) || sum.String() != "0.0134" {
		t.Errorf("1,000 × 134 tokens = %s, want 0.0134", sum)
	}
	if one := lite.Cost(runtime.Usage{PromptTokens: 134}); one.String() != "0.0000134" {
		t.Errorf("one call = %s, want 0.0000134", one)
	}
}

// Batch Mode: half the input and output price, the cached rate unchanged,
// and the enqueued-token limits of the tier (none on the free tier).
func TestBatchPricesAndTokens(t *testing.T) {
	m, ok := Lookup("gemini-2.5-flash")
	if !ok {
		t.Fatal("no gemini-2.5-flash")
	}
	u := runtime.Usage{PromptTokens: 1_000_000, OutputTokens: 1_000_000}
	if got, want := m.BatchCost(u), m.Cost(u)/2; got != want {
		t.Errorf("batch cost %v, want %v", got, want)
	}
	cached := runtime.Usage{PromptTokens: 1_000_000, CachedTokens: 1_000_000}
	if got, want := m.BatchCost(cached), m.Cost(cached); got != want {
		t.Errorf("cached tokens at batch %v, want the interactive cached rate %v", got, want)
	}
	if m.BatchTokens(0) != 0 || m.BatchTokens(1) != 3_000_000 || m.BatchTokens(3) != 1_000_000_000 {
		t.Errorf("batch tokens %d %d %d", m.BatchTokens(0), m.BatchTokens(1), m.BatchTokens(3))
	}
}
