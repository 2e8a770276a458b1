package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/interp/tokens"
	"github.com/llmpipe/llmpipe/runtime"
	"google.golang.org/genai"
)

// CreateCache uploads system text as a cachedContents entry for model.
// The text goes in systemInstruction, which is what the cache stands for
// in a request. Should the server insist on at least one content turn (an
// API version has: "CachedContent must have at least one content"), the
// create is repeated once with the text as a user turn instead.
func (p *Provider) CreateCache(ctx context.Context, model, displayName, system string, ttl time.Duration) (string, int, error) {
	op := fmt.Sprintf("creating cache %q for %s", displayName, model)
	cfg := &genai.CreateCachedContentConfig{
		DisplayName:       displayName,
		TTL:               ttl,
		SystemInstruction: genai.NewContentFromText(system, genai.RoleUser),
	}
	cc, err := p.client.Caches.Create(ctx, model, cfg)
	if err != nil && needsContents(err) {
		cfg.SystemInstruction = nil
		cfg.Contents = []*genai.Content{genai.NewContentFromText(system, genai.RoleUser)}
		cc, err = p.client.Caches.Create(ctx, model, cfg)
	}
	if err != nil {
		return "", 0, classify(ctx, ctx, 0, op, err)
	}
	if cc == nil || cc.Name == "" {
		return "", 0, &runtime.Error{Class: runtime.ClassTransient, Message: op + ": reply has no cache name"}
	}
	n := 0
	if cc.UsageMetadata != nil {
		n = int(cc.UsageMetadata.TotalTokenCount)
	}
	if n == 0 {
		// Rough, but only used for storage-cost estimates.
		n = tokens.Estimate(system)
	}
	return cc.Name, n, nil
}

// needsContents reports the refusal of a cache with no content turns.
func needsContents(err error) bool {
	var e genai.APIError
	return errors.As(err, &e) && e.Code == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.Message), "at least one content")
}

// UpdateCacheTTL extends a cache's life to now + ttl.
func (p *Provider) UpdateCacheTTL(ctx context.Context, name string, ttl time.Duration) error {
	_, err := p.client.Caches.Update(ctx, name, &genai.UpdateCachedContentConfig{TTL: ttl})
	if err != nil {
		return classify(ctx, ctx, 0, fmt.Sprintf("updating cache %s", name), err)
	}
	return nil
}

// DeleteCache removes a cache. One already gone (404, or the API's 403
// "CachedContent not found (or permission denied)") is not an error: the
// goal, no storage billed for it, is met.
func (p *Provider) DeleteCache(ctx context.Context, name string) error {
	_, err := p.client.Caches.Delete(ctx, name, nil)
	if err == nil {
		return nil
	}
	err = classify(ctx, ctx, 0, fmt.Sprintf("deleting cache %s", name), err)
	var re *runtime.Error
	if errors.As(err, &re) && (re.CacheGone || re.Status == http.StatusNotFound) {
		return nil
	}
	return err
}
