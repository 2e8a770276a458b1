package sim

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// The request side decodes only what the simulator looks at; unknown fields
// (tools, safetySettings, thinkingConfig, …) are accepted and ignored.

type genRequest struct {
	Contents          []content       `json:"contents"`
	SystemInstruction *content        `json:"systemInstruction"`
	CachedContent     string          `json:"cachedContent"`
	GenerationConfig  *genConfig      `json:"generationConfig"`
	Tools             json.RawMessage `json:"tools"`
}

type content struct {
	Role  string `json:"role"`
	Parts []part `json:"parts"`
}

type part struct {
	Text string `json:"text"`
}

type genConfig struct {
	MaxOutputTokens    int             `json:"maxOutputTokens"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig"`
	ResponseMimeType   string          `json:"responseMimeType"`
	ResponseSchema     json.RawMessage `json:"responseSchema"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
}

type thinkingConfig struct {
	ThinkingBudget *int `json:"thinkingBudget"`
}

// promptText joins the text of the contents (not the system instruction):
// that is where an item's data lives, so replies draw their values from it.
func (r *genRequest) promptText() string {
	var b strings.Builder
	for _, c := range r.Contents {
		for _, p := range c.Parts {
			if p.Text == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// countTokens counts all text in contents and the system instruction
// with the simulator's tokenizer (tokens.go).
func countTokens(cs []content, sys *content) int {
	n := 0
	for _, c := range cs {
		for _, p := range c.Parts {
			n += textTokens(p.Text)
		}
	}
	if sys != nil {
		for _, p := range sys.Parts {
			n += textTokens(p.Text)
		}
	}
	return n
}

// usage is what goes into usageMetadata.
type usage struct {
	prompt, output, cached, thoughts int
}

// appendResponse encodes a GenerateContentResponse by hand: it is the hot
// path and the shape is fixed.
func appendResponse(b []byte, text, finish string, u usage, model, id string) []byte {
	b = append(b, `{"candidates":[{"content":{"parts":[{"text":`...)
	b = appendString(b, text)
	b = append(b, `}],"role":"model"}`...)
	if finish != "" {
		b = append(b, `,"finishReason":"`...)
		b = append(b, finish...)
		b = append(b, '"')
	}
	b = append(b, `,"index":0}],"usageMetadata":`...)
	b = appendUsage(b, u)
	b = append(b, `,"modelVersion":`...)
	b = appendString(b, model)
	b = append(b, `,"responseId":"`...)
	b = append(b, id...)
	b = append(b, `"}`...)
	return b
}

func appendUsage(b []byte, u usage) []byte {
	b = append(b, `{"promptTokenCount":`...)
	b = strconv.AppendInt(b, int64(u.prompt), 10)
	if u.output > 0 {
		b = append(b, `,"candidatesTokenCount":`...)
		b = strconv.AppendInt(b, int64(u.output), 10)
	}
	if u.cached > 0 {
		b = append(b, `,"cachedContentTokenCount":`...)
		b = strconv.AppendInt(b, int64(u.cached), 10)
	}
	if u.thoughts > 0 {
		b = append(b, `,"thoughtsTokenCount":`...)
		b = strconv.AppendInt(b, int64(u.thoughts), 10)
	}
	b = append(b, `,"totalTokenCount":`...)
	b = strconv.AppendInt(b, int64(u.prompt+u.output+u.thoughts), 10)
	b = append(b, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	b = strconv.AppendInt(b, int64(u.prompt), 10)
	b = append(b, `}]`...)
	if u.cached > 0 {
		b = append(b, `,"cacheTokensDetails":[{"modality":"TEXT","tokenCount":`...)
		b = strconv.AppendInt(b, int64(u.cached), 10)
		b = append(b, `}]`...)
	}
	b = append(b, '}')
	return b
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte { return jsonscan.AppendString(b, s) }

// responseID makes a stable, opaque id from the reply hash.
func responseID(h uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [16]byte
	for i := range b {
		b[i] = alphabet[h%uint64(len(alphabet))]
		h = mix64(h + uint64(i))
	}
	return string(b[:])
}
