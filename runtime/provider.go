package runtime

import (
	"context"
	"time"
)

// Request is one call to a model. The provider turns it into the API's
// request; the store hashes it (with the model id) for the response cache.
type Request struct {
	Item   string // item id; the gemini provider sends it encoded in the x-llmpipe-item header
	Step   string
	Model  string // Gemini model id
	System string // system instruction; "" for none
	Prompt string // the user turn (with feedback appended on retries)

	// Schema is the Gemini responseSchema (upper-case OpenAPI types); nil
	// for a plain-text reply.
	Schema map[string]any
	// SchemaID identifies Schema (interp.Schema.Hash) so that the request
	// key need not encode the schema on every call; "" hashes Schema itself.
	SchemaID string

	CachedContent string // "cachedContents/…" or ""
	// CacheID identifies the cached content's content (a hash), so the
	// response cache survives a cache being re-created under a new name.
	CacheID string

	Temperature     *float64
	TopP            *float64
	TopK            *int
	MaxOutputTokens int
	ThinkingBudget  *int

	Timeout time.Duration // per attempt; the provider also honours ctx
}

// Usage is what the API counted for one call.
type Usage struct {
	PromptTokens   int `json:"prompt_tokens"`   // includes cached tokens
	OutputTokens   int `json:"output_tokens"`   // candidates
	CachedTokens   int `json:"cached_tokens"`   // part of PromptTokens
	ThinkingTokens int `json:"thinking_tokens"` // billed as output
}

// Add returns u + o.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		PromptTokens:   u.PromptTokens + o.PromptTokens,
		OutputTokens:   u.OutputTokens + o.OutputTokens,
		CachedTokens:   u.CachedTokens + o.CachedTokens,
		ThinkingTokens: u.ThinkingTokens + o.ThinkingTokens,
	}
}

// Response is a model's reply.
type Response struct {
	Text         string `json:"text"`
	Usage        Usage  `json:"usage"`
	FinishReason string `json:"finish_reason,omitempty"`
	ModelVersion string `json:"model_version,omitempty"`
}

// Provider calls a model. Generate is called concurrently from many
// goroutines. Errors should be (or wrap) *Error so the runtime can classify
// them; anything else counts as transient.
type Provider interface {
	Generate(ctx context.Context, req *Request) (*Response, error)
}

// CacheProvider is implemented by providers that support explicit context
// caches (Gemini cachedContents).
type CacheProvider interface {
	// CreateCache uploads system text for one model and returns the cache's
	// name and its token count. Content below the model's minimum returns an
	// *Error with Class ClassFatal and TooSmall set.
	CreateCache(ctx context.Context, model, displayName, system string, ttl time.Duration) (name string, tokens int, err error)
	UpdateCacheTTL(ctx context.Context, name string, ttl time.Duration) error
	DeleteCache(ctx context.Context, name string) error
}
