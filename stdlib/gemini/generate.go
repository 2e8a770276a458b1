package gemini

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
)

// itemHeader carries the item id so a simulator (or a proxy log) can tie a
// request to the item that caused it.
const itemHeader = "x-llmpipe-item"

// Generate sends one generateContent request. Errors are *runtime.Error,
// except when ctx itself ends: then the error wraps ctx.Err().
//
// A request naming CachedContent should leave System empty: the cache
// already holds the system instruction, and the API refuses a request that
// sets both (400, fatal).
func (p *Provider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	cfg, err := buildConfig(req, &p.schemas)
	if err != nil {
		return nil, err
	}
	contents := []*genai.Content{genai.NewContentFromText(req.Prompt, genai.RoleUser)}

	attemptCtx, cancel := withAttemptTimeout(ctx, req.Timeout)
	defer cancel()
	resp, err := p.client.Models.GenerateContent(attemptCtx, req.Model, contents, cfg)
	if err != nil {
		return nil, classify(ctx, attemptCtx, req.Timeout, fmt.Sprintf("generating with %s", req.Model), err)
	}
	return toResponse(resp)
}

// buildConfig maps a runtime.Request onto the SDK's per-call config.
func buildConfig(req *runtime.Request, schemas *schemaCache) (*genai.GenerateContentConfig, error) {
	cfg := &genai.GenerateContentConfig{
		// Per call, not per client: one client serves every item at once.
		HTTPOptions: &genai.HTTPOptions{
			Headers: http.Header{itemHeader: []string{req.Item}},
		},
		// Each continuation hop is a billed request the runtime would not
		// see or pace; a truncated reply is handled as invalid output instead.
		AutomaticContinuation: genai.Ptr(false),
		CachedContent:         req.CachedContent,
		MaxOutputTokens:       int32(req.MaxOutputTokens),
	}
	if req.System != "" {
		cfg.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if req.Temperature != nil {
		cfg.Temperature = genai.Ptr(float32(*req.Temperature))
	}
	if req.TopP != nil {
		cfg.TopP = genai.Ptr(float32(*req.TopP))
	}
	if req.TopK != nil {
		cfg.TopK = genai.Ptr(float32(*req.TopK))
	}
	if req.ThinkingBudget != nil {
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: genai.Ptr(int32(*req.ThinkingBudget))}
	}
	if req.Schema != nil {
		s, err := schemas.get(req.SchemaID, req.Schema)
		if err != nil {
			// A schema the API cannot take fails every attempt alike.
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: err.Error(), Err: err}
		}
		cfg.ResponseSchema = s
		cfg.ResponseMIMEType = "application/json"
	}
	return cfg, nil
}

// fatalFinish are finish reasons where the model refused: asking again, or
// a bigger model, gets the same refusal.
var fatalFinish = map[genai.FinishReason]bool{
	genai.FinishReasonSafety:            true,
	genai.FinishReasonProhibitedContent: true,
	genai.FinishReasonBlocklist:         true,
	genai.FinishReasonSPII:              true,
}

// toResponse maps a reply. MAX_TOKENS is not an error here: the truncated
// text goes back with its finish reason and fails parsing upstream.
func toResponse(resp *genai.GenerateContentResponse) (*runtime.Response, error) {
	if resp == nil {
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: "empty reply"}
	}
	if len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
		if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "blocked: " + string(pf.BlockReason)}
		}
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: "reply has no candidates"}
	}
	c := resp.Candidates[0]
	if fatalFinish[c.FinishReason] {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "blocked: " + string(c.FinishReason)}
	}
	out := &runtime.Response{
		Text:         candidateText(c),
		FinishReason: string(c.FinishReason),
		ModelVersion: resp.ModelVersion,
	}
	if u := resp.UsageMetadata; u != nil {
		out.Usage = runtime.Usage{
			PromptTokens:   int(u.PromptTokenCount),
			OutputTokens:   int(u.CandidatesTokenCount),
			CachedTokens:   int(u.CachedContentTokenCount),
			ThinkingTokens: int(u.ThoughtsTokenCount),
		}
	}
	return out, nil
}

// candidateText is resp.Text() without its stderr warnings: the visible
// text of the first candidate, thought parts left out.
func candidateText(c *genai.Candidate) string {
	if c.Content == nil {
		return ""
	}
	var b strings.Builder
	for _, part := range c.Content.Parts {
		if part == nil || part.Thought {
			continue
		}
		b.WriteString(part.Text)
	}
	return b.String()
}
