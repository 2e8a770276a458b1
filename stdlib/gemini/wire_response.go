package gemini

import (
	"encoding/json"
	"net/http"
	"strings"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
)

// wireResponse is the part of a GenerateContentResponse llmpipe reads.
// Decoding only these fields is most of the saving over the SDK, which
// decodes the whole reply into a map and then converts it field by field.
type wireResponse struct {
	Candidates     []*wireCandidate `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *struct {
		PromptTokenCount        int32 `json:"promptTokenCount"`
		CandidatesTokenCount    int32 `json:"candidatesTokenCount"`
		CachedContentTokenCount int32 `json:"cachedContentTokenCount"`
		ThoughtsTokenCount      int32 `json:"thoughtsTokenCount"`
	} `json:"usageMetadata"`
	ModelVersion string `json:"modelVersion"`
}

type wireCandidate struct {
	Content *struct {
		Parts []*struct {
			Text    string `json:"text"`
			Thought bool   `json:"thought"`
		} `json:"parts"`
	} `json:"content"`
	FinishReason genai.FinishReason `json:"finishReason"`
}

// fatalFinish are finish reasons where the model refused: asking again, or
// a bigger model, gets the same refusal.
var fatalFinish = map[genai.FinishReason]bool{
	genai.FinishReasonSafety:            true,
	genai.FinishReasonProhibitedContent: true,
	genai.FinishReasonBlocklist:         true,
	genai.FinishReasonSPII:              true,
}

// decodeResponse maps a 2xx body. MAX_TOKENS is not an error here: the
// truncated text goes back with its finish reason and fails parsing
// upstream. An empty body reads as an empty reply, as in the SDK.
func decodeResponse(body []byte) (*runtime.Response, error) {
	var resp wireResponse
	if len(body) > 0 {
		if err := json.Unmarshal(body, &resp); err != nil {
			// Unclassified here: the caller's classify decides (a body cut
			// short by our own timeout is a timeout, not a bad reply).
			return nil, &decodeError{err: err}
		}
	}
	return fromWire(&resp)
}

// fromWire maps a decoded reply (decodeResponse's second half, shared with
// the batch results reader, which decodes whole lines at once).
func fromWire(resp *wireResponse) (*runtime.Response, error) {
	if len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
		if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "blocked: " + pf.BlockReason}
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

// decodeError is a 2xx body that is not the JSON it should be.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decoding reply: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// candidateText is resp.Text() without its stderr warnings: the visible
// text of the first candidate, thought parts left out.
func candidateText(c *wireCandidate) string {
	if c.Content == nil {
		return ""
	}
	parts := c.Content.Parts
	// The common reply is one text part: return it without a builder.
	if len(parts) == 1 && parts[0] != nil && !parts[0].Thought {
		return parts[0].Text
	}
	var b strings.Builder
	for _, part := range parts {
		if part == nil || part.Thought {
			continue
		}
		b.WriteString(part.Text)
	}
	return b.String()
}

// apiError reads a non-2xx body the way the SDK does, so classifyAPI sees
// the same genai.APIError it always has: the body's error object when
// there is one, else the HTTP status and the raw body.
func apiError(resp *http.Response, body []byte) genai.APIError {
	if len(body) == 0 {
		return genai.APIError{Code: resp.StatusCode, Status: resp.Status}
	}
	var w struct {
		Error *genai.APIError `json:"error,omitempty"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Error == nil {
		return genai.APIError{Code: resp.StatusCode, Status: resp.Status, Message: string(body)}
	}
	return *w.Error
}
