package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/itemkey"
)

// DefaultKeyEnv names the variable the API key is read from unless a model
// block names another (api_key_env).
const DefaultKeyEnv = "OPENAI_API_KEY"

// Options configures New.
type Options struct {
	// BaseURL is the server's API root, e.g. "http://127.0.0.1:8000/v1";
	// "" means OpenAI's own.
	BaseURL string
	// APIKey; "" means none is sent, which local servers accept.
	APIKey string
	// JSONSchema sends a step's schema as a strict response_format; false
	// describes it in a JSON-only instruction for servers without
	// structured output.
	JSONSchema bool
	// HTTPClient; nil means one whose pool keeps a connection per call in
	// flight.
	HTTPClient *http.Client
}

// Provider calls one OpenAI-compatible server. It is safe for concurrent use.
type Provider struct {
	client     openai.Client
	jsonSchema bool

	mu      sync.Mutex
	schemas map[string]map[string]any // strict schemas by Request.SchemaID
}

var _ runtime.Provider = (*Provider)(nil)

// New builds a provider. It makes no network call.
func New(opts Options) *Provider {
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4096
		hc = &http.Client{Transport: t}
	}
	o := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // llmpipe retries, paces and classifies itself
		// The key is never read from the environment behind our back: the
		// caller decides which variable (api_key_env) holds it.
		option.WithAPIKey(opts.APIKey),
	}
	if opts.BaseURL != "" {
		o = append(o, option.WithBaseURL(opts.BaseURL))
	}
	return &Provider{client: openai.NewClient(o...), jsonSchema: opts.JSONSchema, schemas: map[string]map[string]any{}}
}

// KeyFromEnv reads the API key from the named variable (DefaultKeyEnv when
// name is "").
func KeyFromEnv(name string) string {
	if name == "" {
		name = DefaultKeyEnv
	}
	return os.Getenv(name)
}

// Generate makes one chat-completions call.
func (p *Provider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	attemptCtx := ctx
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		attemptCtx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	params := p.params(req)
	var httpResp *http.Response
	comp, err := p.client.Chat.Completions.New(attemptCtx, params,
		option.WithResponseInto(&httpResp),
		option.WithHeader("x-llmpipe-item", itemkey.Encode(req.Item)))
	if err != nil {
		return nil, classify(ctx, attemptCtx, req.Timeout, err)
	}
	if len(comp.Choices) == 0 {
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: "reply has no choices"}
	}
	ch := comp.Choices[0]
	u := comp.Usage
	thinking := int(u.CompletionTokensDetails.ReasoningTokens)
	return &runtime.Response{
		Text: ch.Message.Content,
		Usage: runtime.Usage{
			PromptTokens:   int(u.PromptTokens),
			OutputTokens:   int(u.CompletionTokens) - thinking,
			CachedTokens:   int(u.PromptTokensDetails.CachedTokens),
			ThinkingTokens: thinking,
		},
		FinishReason: finishReason(ch.FinishReason),
		ModelVersion: comp.Model,
	}, nil
}

func (p *Provider) params(req *runtime.Request) openai.ChatCompletionNewParams {
	system := req.System
	if req.Schema != nil && !p.jsonSchema {
		system = strings.TrimSpace(system + "\n\n" + schemaInstruction(req.Schema))
	}
	var msgs []openai.ChatCompletionMessageParamUnion
	if system != "" {
		msgs = append(msgs, openai.SystemMessage(system))
	}
	msgs = append(msgs, openai.UserMessage(req.Prompt))
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(req.Model), Messages: msgs}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if req.TopP != nil {
		params.TopP = openai.Float(*req.TopP)
	}
	if req.MaxOutputTokens > 0 {
		// max_tokens, not max_completion_tokens: local servers know the
		// older name, and OpenAI still takes it for chat models.
		params.MaxTokens = openai.Int(int64(req.MaxOutputTokens))
	}
	if req.Schema != nil && p.jsonSchema {
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
				Name:   "output",
				Strict: openai.Bool(true),
				Schema: p.strict(req),
			}},
		}
	}
	return params
}

// strict converts a request's schema once per schema.
func (p *Provider) strict(req *runtime.Request) map[string]any {
	if req.SchemaID == "" {
		return strictSchema(req.Schema)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.schemas[req.SchemaID]
	if !ok {
		s = strictSchema(req.Schema)
		p.schemas[req.SchemaID] = s
	}
	return s
}

// finishReason maps OpenAI's reasons onto Gemini's names, which the
// runtime reads (a reply cut by the token cap is MAX_TOKENS either way).
func finishReason(r string) string {
	switch r {
	case "stop", "":
		return "STOP"
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	}
	return strings.ToUpper(r)
}

// classify turns an SDK error into what the runtime acts on.
func classify(ctx, attemptCtx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("chat completion: %w", ctx.Err())
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		out := &runtime.Error{Status: apiErr.StatusCode, Message: apiErr.Message, Err: err}
		if out.Message == "" {
			out.Message = http.StatusText(apiErr.StatusCode)
		}
		switch code := apiErr.StatusCode; {
		case code == http.StatusTooManyRequests:
			out.Class = runtime.ClassRateLimit
			if apiErr.Response != nil {
				out.RetryDelay = retryDelay(apiErr.Response.Header)
			}
		case code == http.StatusRequestTimeout || code == http.StatusConflict || code >= 500:
			out.Class = runtime.ClassTransient
		default:
			out.Class = runtime.ClassFatal
		}
		return out
	}
	if errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return &runtime.Error{Class: runtime.ClassTransient, Message: "timeout after " + timeout.String(), Err: err}
	}
	return &runtime.Error{Class: runtime.ClassTransient, Message: err.Error(), Err: err}
}

// retryDelay reads how long a 429 asks to wait: retry-after-ms, then
// retry-after (seconds), then the later of the x-ratelimit-reset-* headers
// (durations such as "1s", "6m0s" or "20ms").
func retryDelay(h http.Header) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := h.Get("retry-after"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, time.Until(t))
		}
	}
	var d time.Duration
	for _, name := range []string{"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"} {
		if v, err := time.ParseDuration(h.Get(name)); err == nil {
			d = max(d, v)
		}
	}
	return d
}
