package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestCacheLine(t *testing.T) {
	withCached := func(s runtime.Summary, n int) *runtime.Summary {
		s.Usage.CachedTokens = n
		return &s
	}
	for _, tc := range []struct {
		name string
		sum  *runtime.Summary
		want string
	}{
		{"no caches", &runtime.Summary{}, ""},
		{"saving", withCached(runtime.Summary{CachesCreated: 1, CacheCost: 0.0013, CacheSaved: 0.0222}, 86980),
			"1 created · $0.0013 creation + storage · 86,980 cached tokens · saved $0.0222 against sending the content inline"},
		{"loss", withCached(runtime.Summary{CachesCreated: 2, CacheCost: 0.002, CacheSaved: -0.0015}, 1000),
			"2 created · $0.0020 creation + storage · 1,000 cached tokens · cost $0.0015 more than sending the content inline"},
		{"inline only", &runtime.Summary{CachesInline: 1},
			"1 sent inline (below the model's minimum cache size)"},
	} {
		if got := cacheLine(tc.sum); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestPrintSummaryShowsCaches(t *testing.T) {
	var b bytes.Buffer
	sum := &runtime.Summary{Outcome: runtime.OutcomeCompleted, CachesCreated: 1, CacheCost: 0.5, CacheSaved: 1.25}
	printSummary(&b, sum)
	if !strings.Contains(b.String(), "  caches       1 created · $0.5000 creation + storage") ||
		!strings.Contains(b.String(), "saved $1.2500 against sending the content inline") {
		t.Errorf("summary has no caches line:\n%s", b.String())
	}
	b.Reset()
	printSummary(&b, &runtime.Summary{Outcome: runtime.OutcomeCompleted})
	if strings.Contains(b.String(), "caches") {
		t.Errorf("caches line without caches:\n%s", b.String())
	}
}
