package sim

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/genai"
)

func bigSystem(tokens int) *genai.Content {
	return genai.NewContentFromText(strings.Repeat("word", tokens), genai.RoleUser)
}

func TestCacheLifecycle(t *testing.T) {
	s := startSim(t, func(c *Config) { c.MinCacheTokens = 100 })
	c := newClient(t, s)
	ctx := testCtx(t)

	cc, err := c.Caches.Create(ctx, flash, &genai.CreateCachedContentConfig{
		DisplayName: "preamble", SystemInstruction: bigSystem(200), TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cc.Name, "cachedContents/") || cc.Model != "models/"+flash || cc.UsageMetadata.TotalTokenCount != 200 {
		t.Fatalf("created %+v", cc)
	}
	// The default 60s window leaves TTLs unscaled.
	if d := time.Until(cc.ExpireTime); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expireTime %v from now, want about 1h", d)
	}

	got, err := c.Caches.Get(ctx, cc.Name, nil)
	if err != nil || got.DisplayName != "preamble" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	upd, err := c.Caches.Update(ctx, cc.Name, &genai.UpdateCachedContentConfig{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(upd.ExpireTime); d < 119*time.Minute {
		t.Errorf("after update expireTime is %v away, want about 2h", d)
	}

	// Using it: cached tokens are reported and counted in the prompt.
	resp, err := generate(t, c, flash, "hello there", &genai.GenerateContentConfig{CachedContent: cc.Name})
	if err != nil {
		t.Fatal(err)
	}
	if u := resp.UsageMetadata; u.CachedContentTokenCount != 200 || int(u.PromptTokenCount) != 200+textTokens("hello there") {
		t.Errorf("usage %+v: want 200 cached, 204 prompt", u)
	}
	// With another model the cache is refused.
	_, err = generate(t, c, "gemini-2.5-pro", "hello", &genai.GenerateContentConfig{CachedContent: cc.Name})
	if e := apiError(t, err); e.Code != 400 || !strings.Contains(e.Message, "has to be the same") {
		t.Errorf("other model: %+v", e)
	}
	// And so is a system instruction next to it.
	_, err = generate(t, c, flash, "hello", &genai.GenerateContentConfig{CachedContent: cc.Name, SystemInstruction: genai.NewContentFromText("x", genai.RoleUser)})
	if e := apiError(t, err); e.Code != 400 || !strings.Contains(e.Message, "system_instruction") {
		t.Errorf("system with cache: %+v", e)
	}

	if _, err := c.Caches.Create(ctx, flash, &genai.CreateCachedContentConfig{SystemInstruction: bigSystem(150)}); err != nil {
		t.Fatal(err)
	}
	page, err := c.Caches.List(ctx, &genai.ListCachedContentsConfig{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range c.Caches.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if len(page.Items) != 1 || page.NextPageToken == "" || n != 2 {
		t.Errorf("list: page of %d (next %q), all %d; want 1, a token, 2", len(page.Items), page.NextPageToken, n)
	}

	if _, err := c.Caches.Delete(ctx, cc.Name, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Caches.Get(ctx, cc.Name, nil)
	if e := apiError(t, err); e.Code != 403 {
		t.Errorf("get after delete: %+v", e)
	}
	st := s.Stats().Caches
	if st.Created != 2 || st.Deleted != 1 || st.Live != 1 {
		t.Errorf("cache stats %+v", st)
	}
}

// TestCacheTooSmall: the default minimum is the catalog's per-model value,
// the rule plan and run use (issue 17).
func TestCacheTooSmall(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	_, err := c.Caches.Create(testCtx(t), flash, &genai.CreateCachedContentConfig{SystemInstruction: bigSystem(1000)})
	e := apiError(t, err)
	if e.Code != 400 || e.Status != "INVALID_ARGUMENT" || e.Message != "Cached content is too small. total_token_count=1000, min_total_token_count=2048" {
		t.Errorf("got %+v", e)
	}
}

func TestCacheExpires(t *testing.T) {
	// A 6s window makes a minute last 6s: ttl 5s lives 500ms.
	s := startSim(t, func(c *Config) { c.Window = 6 * time.Second; c.MinCacheTokens = 10 })
	c := newClient(t, s)
	ctx := testCtx(t)
	// The server stamps the creation somewhere between these two reads; a
	// loaded machine may put a long time between them, so each bounds one
	// side (reading only the first flaked under load).
	before := time.Now()
	cc, err := c.Caches.Create(ctx, flash, &genai.CreateCachedContentConfig{SystemInstruction: bigSystem(50), TTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if lo, hi := before.Add(450*time.Millisecond), after.Add(550*time.Millisecond); cc.ExpireTime.Before(lo) || cc.ExpireTime.After(hi) {
		t.Errorf("expireTime %v after the create was sent (%v to answer), want about 500ms", cc.ExpireTime.Sub(before), after.Sub(before))
	}
	_, err = generate(t, c, flash, "hi", &genai.GenerateContentConfig{CachedContent: cc.Name})
	if err != nil && time.Now().Before(cc.ExpireTime) {
		t.Fatalf("before expiry: %v", err)
	}
	time.Sleep(time.Until(cc.ExpireTime) + 20*time.Millisecond)
	_, err = generate(t, c, flash, "hi", &genai.GenerateContentConfig{CachedContent: cc.Name})
	e := apiError(t, err)
	if e.Code != 403 || e.Status != "PERMISSION_DENIED" || detail(e, "ErrorInfo")["reason"] != "CACHED_CONTENT_NOT_FOUND" {
		t.Errorf("expired cache: %+v", e)
	}
	_, err = generate(t, c, flash, "hi", &genai.GenerateContentConfig{CachedContent: "cachedContents/nope"})
	if e := apiError(t, err); detail(e, "ErrorInfo")["reason"] != "CACHED_CONTENT_NOT_FOUND" {
		t.Errorf("unknown cache: %+v", e)
	}
	if st := s.Stats().Caches; st.Expired != 1 || st.Live != 0 || st.Created != 1 {
		t.Errorf("cache stats %+v", st)
	}
}
