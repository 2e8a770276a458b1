package catalog

import (
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

func TestBookPrices(t *testing.T) {
	own := &interp.Price{InputPerM: 7, OutputPerM: 9}
	prog := &interp.Program{Models: []*interp.Model{
		{Name: "fast", ID: "gemini-2.5-flash"},           // catalog price
		{Name: "mine", ID: "gemini-2.5-pro", Price: own}, // block price wins
		{Name: "second", ID: "gemini-2.5-pro"},           // same id: the first block stands for PriceOf
		{Name: "odd", ID: "my-finetune"},                 // unknown everywhere
		{Name: "odd2", ID: "other-finetune", Price: own}, // unknown to the catalog, priced by its block
	}}
	b := NewBook(prog)
	flash, _ := Lookup("gemini-2.5-flash")
	pro, _ := Lookup("gemini-2.5-pro")
	for _, tc := range []struct {
		m      *interp.Model
		want   interp.Price
		wantOK bool
	}{
		{prog.Models[0], flash.Price, true},
		{prog.Models[1], *own, true},
		{prog.Models[2], pro.Price, true}, // a block's price is its own
		{prog.Models[3], interp.Price{}, false},
		{prog.Models[4], *own, true},
	} {
		got, ok := b.ModelPrice(tc.m)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ModelPrice(%s) = %+v, %v; want %+v, %v", tc.m.Name, got, ok, tc.want, tc.wantOK)
		}
		if b.Price(tc.m) != tc.want {
			t.Errorf("Price(%s) = %+v, want %+v", tc.m.Name, b.Price(tc.m), tc.want)
		}
	}
	for id, want := range map[string]interp.Price{
		"gemini-2.5-pro":   *own, // the first block with the id
		"gemini-2.5-flash": flash.Price,
		"gemini-2.0-flash": mustLookup(t, "gemini-2.0-flash").Price, // no block: the catalog
		"nobody":           {},
	} {
		if got := b.PriceOf(id); got != want {
			t.Errorf("PriceOf(%q) = %+v, want %+v", id, got, want)
		}
	}
}

func TestBookCost(t *testing.T) {
	own := &interp.Price{InputPerM: 1, OutputPerM: 2}
	b := NewBook(&interp.Program{Models: []*interp.Model{
		{ID: "gemini-3-pro-preview", Price: own},
		{ID: "gemini-2.5-pro"},
	}})
	long := runtime.Usage{PromptTokens: 300_000, OutputTokens: 1000}
	for _, tc := range []struct {
		id   string
		u    runtime.Usage
		want float64
	}{
		// A block's price has no long-context tier: it applies at any size.
		{"gemini-3-pro-preview", long, (300_000*1 + 1000*2) / 1e6},
		// The catalog's long-context price above its threshold.
		{"gemini-2.5-pro", long, (300_000*2.5 + 1000*15) / 1e6},
		{"gemini-2.5-pro", runtime.Usage{PromptTokens: 1000, OutputTokens: 1000}, (1000*1.25 + 1000*10) / 1e6},
		// No block: the catalog alone.
		{"gemini-2.5-flash", runtime.Usage{PromptTokens: 1e6}, 0.3},
		{"unknown-model", long, 0},
	} {
		if got := b.Cost(tc.id, tc.u); got != runtime.Dollars(tc.want) {
			t.Errorf("Cost(%s, %+v) = %s, want %g", tc.id, tc.u, got, tc.want)
		}
	}
}

func TestBookLimits(t *testing.T) {
	blocks := []*interp.Model{
		{ID: "gemini-2.5-flash"},
		{ID: "gemini-2.5-flash", RPM: 50, Concurrency: 3}, // rpm overridden, tpm and rpd from the table
		{ID: "my-finetune", RPM: 10},
		{ID: "my-finetune"},
	}
	for _, tc := range []struct {
		tier int
		m    *interp.Model
		want quota.Limits
	}{
		{0, blocks[0], quota.Limits{RPM: 1000, TPM: 1_000_000, RPD: 10_000}}, // tier 0: the default, tier 1
		{2, blocks[0], quota.Limits{RPM: 2000, TPM: 3_000_000, RPD: 100_000}},
		{1, blocks[1], quota.Limits{RPM: 50, TPM: 1_000_000, RPD: 10_000, Concurrency: 3}},
		{1, blocks[2], quota.Limits{RPM: 10}},
		{1, blocks[3], quota.Limits{}},
	} {
		b := NewBook(&interp.Program{Config: interp.Config{Tier: tc.tier}, Models: blocks})
		if got := b.Limits(tc.m); got != tc.want {
			t.Errorf("tier %d: Limits(%+v) = %+v, want %+v", tc.tier, tc.m, got, tc.want)
		}
	}
	if got := NewBook(&interp.Program{}).Tier(); got != DefaultTier {
		t.Errorf("Tier() of a program without a tier = %d, want %d", got, DefaultTier)
	}
}

func TestBookCaching(t *testing.T) {
	b := NewBook(&interp.Program{})
	for _, tc := range []struct {
		m       *interp.Model
		min     int
		caching bool
	}{
		{&interp.Model{ID: "gemini-2.5-flash"}, 2048, true},
		{&interp.Model{ID: "gemini-2.0-flash-lite"}, FallbackMinCacheTokens, false},
		{&interp.Model{ID: "gemini-2.0-flash-lite", Price: &interp.Price{InputPerM: 1}}, FallbackMinCacheTokens, true},
		// One rule with the simulator's default (issue 17): a model the
		// catalog does not know gets the smallest minimum any has had.
		{&interp.Model{ID: "my-finetune"}, FallbackMinCacheTokens, true},
	} {
		min, ok := b.Caching(tc.m)
		if min != tc.min || ok != tc.caching {
			t.Errorf("Caching(%+v) = %d, %v; want %d, %v", tc.m, min, ok, tc.min, tc.caching)
		}
	}
}

func mustLookup(t *testing.T, id string) Model {
	t.Helper()
	m, ok := Lookup(id)
	if !ok {
		t.Fatalf("%s is not in the catalog", id)
	}
	return m
}
