package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/llmpipe/llmpipe/runtime"
)

// The types below mirror the JSON genai sends for generateContent with the
// options llmpipe uses. Field names, omitempty and number types follow the
// SDK's (float32 sampling knobs, int32 counts), so an unset field is left
// out exactly where the SDK leaves it out. TestWireEquivalence holds them
// to what the SDK actually sends.

type wireRequest struct {
	Contents          []wireContent `json:"contents"`
	SystemInstruction *wireContent  `json:"systemInstruction,omitempty"`
	CachedContent     string        `json:"cachedContent,omitempty"`
	// Never omitted: the SDK sends "generationConfig": {} when nothing in
	// it is set, because the per-call config is never nil.
	GenerationConfig wireGenerationConfig `json:"generationConfig"`
}

type wireContent struct {
	Parts []wirePart `json:"parts,omitempty"`
	Role  string     `json:"role,omitempty"`
}

type wirePart struct {
	Text string `json:"text,omitempty"`
}

type wireGenerationConfig struct {
	Temperature      *float32        `json:"temperature,omitempty"`
	TopP             *float32        `json:"topP,omitempty"`
	TopK             *float32        `json:"topK,omitempty"`
	MaxOutputTokens  int32           `json:"maxOutputTokens,omitempty"`
	ResponseMIMEType string          `json:"responseMimeType,omitempty"`
	ResponseSchema   json.RawMessage `json:"responseSchema,omitempty"`
	ThinkingConfig   *wireThinking   `json:"thinkingConfig,omitempty"`
}

type wireThinking struct {
	ThinkingBudget *int32 `json:"thinkingBudget,omitempty"`
}

// bufPool holds encode and decode buffers, so a steady run stops growing
// a fresh buffer for every call.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuf returns b unless a huge reply made it too big to be worth keeping.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}

// encodeRequest builds the generateContent body. The result is a fresh
// slice the caller owns: the transport may still read a request body after
// Do returns, so it must not share the pooled buffer.
func encodeRequest(req *runtime.Request, schemas *schemaCache) ([]byte, error) {
	w := wireRequest{Contents: []wireContent{{Parts: []wirePart{{Text: req.Prompt}}, Role: "user"}}}
	if req.System != "" {
		w.SystemInstruction = &wireContent{Parts: []wirePart{{Text: req.System}}, Role: "user"}
	}
	w.CachedContent = req.CachedContent
	g := &w.GenerationConfig
	g.MaxOutputTokens = int32(req.MaxOutputTokens)
	if req.Temperature != nil {
		g.Temperature = f32(*req.Temperature)
	}
	if req.TopP != nil {
		g.TopP = f32(*req.TopP)
	}
	if req.TopK != nil {
		g.TopK = f32(float64(*req.TopK))
	}
	if req.ThinkingBudget != nil {
		b := int32(*req.ThinkingBudget)
		g.ThinkingConfig = &wireThinking{ThinkingBudget: &b}
	}
	if req.Schema != nil {
		s, err := schemas.encoded(req.SchemaID, req.Schema)
		if err != nil {
			// A schema the API cannot take fails every attempt alike.
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: err.Error(), Err: err}
		}
		g.ResponseSchema = s
		g.ResponseMIMEType = "application/json"
	}

	buf := getBuf()
	defer putBuf(buf)
	if err := json.NewEncoder(buf).Encode(&w); err != nil {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "encoding request: " + err.Error(), Err: err}
	}
	return bytes.Clone(buf.Bytes()), nil
}

func f32(v float64) *float32 {
	f := float32(v)
	return &f
}

// encoded returns the schema for id as the JSON the SDK would send: the
// converted *genai.Schema marshalled once, then reused for every call.
func (c *schemaCache) encoded(id string, m map[string]any) (json.RawMessage, error) {
	if id != "" {
		c.mu.RLock()
		b, ok := c.enc[id]
		c.mu.RUnlock()
		if ok {
			return b, nil
		}
	}
	s, err := c.get(id, m)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding response schema: %w", err)
	}
	if id == "" {
		return b, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil {
		c.enc = map[string]json.RawMessage{}
	}
	if len(c.enc) < maxCachedSchemas {
		c.enc[id] = b
	}
	return b, nil
}
