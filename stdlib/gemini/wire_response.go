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
//
// The usual reply is read in one pass by scanReply; anything it is not
// sure encoding/json would read the same way goes through encoding/json,
// which decides.
func decodeResponse(body []byte) (*runtime.Response, error) {
	var sum replySummary
	if len(body) > 0 && !scanReply(body, &sum) {
		var resp wireResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			// Unclassified here: the caller's classify decides (a body cut
			// short by our own timeout is a timeout, not a bad reply).
			return nil, &decodeError{err: err}
		}
		return fromWire(&resp)
	}
	return sum.response()
}

// replySummary is what llmpipe reads of a reply: the first candidate's
// visible text and finish reason, the block reason, the usage and the
// model version. Both decoders fill it, so they map a reply alike.
type replySummary struct {
	candidates   bool // the first candidate is there
	text         string
	finish       genai.FinishReason
	blockReason  string
	usage        runtime.Usage
	modelVersion string
}

// fromWire maps a decoded reply (decodeResponse's second half, shared with
// the batch results reader, which decodes whole lines at once).
func fromWire(resp *wireResponse) (*runtime.Response, error) {
	sum := replySummary{modelVersion: resp.ModelVersion}
	if len(resp.Candidates) > 0 && resp.Candidates[0] != nil {
		c := resp.Candidates[0]
		sum.candidates, sum.text, sum.finish = true, candidateText(c), c.FinishReason
	}
	if pf := resp.PromptFeedback; pf != nil {
		sum.blockReason = pf.BlockReason
	}
	if u := resp.UsageMetadata; u != nil {
		sum.usage = runtime.Usage{
			PromptTokens:   int(u.PromptTokenCount),
			OutputTokens:   int(u.CandidatesTokenCount),
			CachedTokens:   int(u.CachedContentTokenCount),
			ThinkingTokens: int(u.ThoughtsTokenCount),
		}
	}
	return sum.response()
}

// response maps the summary to a Response or a classified error.
func (sum *replySummary) response() (*runtime.Response, error) {
	if !sum.candidates {
		if sum.blockReason != "" {
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "blocked: " + sum.blockReason}
		}
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: "reply has no candidates"}
	}
	if fatalFinish[sum.finish] {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "blocked: " + string(sum.finish)}
	}
	return &runtime.Response{
		Text:         sum.text,
		FinishReason: string(sum.finish),
		ModelVersion: sum.modelVersion,
		Usage:        sum.usage,
	}, nil
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
