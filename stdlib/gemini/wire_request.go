package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
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

// maxPooledBuf is the largest buffer putBuf keeps.
const maxPooledBuf = 1 << 20

// putBuf returns b unless a huge reply made it too big to be worth keeping.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		bufPool.Put(b)
	}
}

// encodeRequest builds the generateContent body. The result is a fresh
// slice the caller owns: the transport may still read a request body after
// Do returns, so it must not share the pooled buffer.
//
// The body is appended by hand in wireRequest's field order with its
// omitempty rules: the reflective json.Encoder was a tenth of a call's
// client CPU. TestEncodeRequestMatchesEncoder holds the two byte for byte
// (with the encoder's HTML escaping off, which only changes how <, > and &
// are spelled, not what the server reads).
func encodeRequest(req *runtime.Request, schemas *schemaCache) ([]byte, error) {
	var schema json.RawMessage
	if req.Schema != nil {
		s, err := schemas.encoded(req.SchemaID, req.Schema)
		if err != nil {
			// A schema the API cannot take fails every attempt alike.
			return nil, &runtime.Error{Class: runtime.ClassFatal, Message: err.Error(), Err: err}
		}
		schema = s
	}
	if !finite(req.Temperature) || !finite(req.TopP) {
		// encoding/json refuses NaN and ±Inf: say so as it always has.
		return encodeRequestJSON(req, schema)
	}
	buf := getBuf()
	defer putBuf(buf)
	b := buf.AvailableBuffer()
	b = append(b, `{"contents":[`...)
	b = appendContent(b, req.Prompt)
	b = append(b, ']')
	if req.System != "" {
		b = append(b, `,"systemInstruction":`...)
		b = appendContent(b, req.System)
	}
	if req.CachedContent != "" {
		b = append(b, `,"cachedContent":`...)
		b = jsonscan.AppendString(b, req.CachedContent)
	}
	b = append(b, `,"generationConfig":{`...)
	n := len(b) // a comma goes before every member but the first
	comma := func(b []byte) []byte {
		if len(b) > n {
			b = append(b, ',')
		}
		return b
	}
	if req.Temperature != nil {
		b = append(comma(b), `"temperature":`...)
		b = appendFloat32(b, float32(*req.Temperature))
	}
	if req.TopP != nil {
		b = append(comma(b), `"topP":`...)
		b = appendFloat32(b, float32(*req.TopP))
	}
	if req.TopK != nil {
		b = append(comma(b), `"topK":`...)
		b = appendFloat32(b, float32(float64(*req.TopK)))
	}
	if m := int32(req.MaxOutputTokens); m != 0 {
		b = append(comma(b), `"maxOutputTokens":`...)
		b = strconv.AppendInt(b, int64(m), 10)
	}
	if schema != nil {
		b = append(comma(b), `"responseMimeType":"application/json","responseSchema":`...)
		b = append(b, schema...)
	}
	if req.ThinkingBudget != nil {
		b = append(comma(b), `"thinkingConfig":{"thinkingBudget":`...)
		b = strconv.AppendInt(b, int64(int32(*req.ThinkingBudget)), 10)
		b = append(b, '}')
	}
	b = append(b, "}}\n"...) // the newline json.Encoder ends with
	buf.Write(b)             // keeps the grown buffer for the pool
	return bytes.Clone(b), nil
}

// appendContent appends a user content of one text part.
func appendContent(b []byte, text string) []byte {
	if text == "" {
		return append(b, `{"parts":[{}],"role":"user"}`...)
	}
	b = append(b, `{"parts":[{"text":`...)
	b = jsonscan.AppendString(b, text)
	return append(b, `}],"role":"user"}`...)
}

func finite(p *float64) bool {
	if p == nil {
		return true
	}
	f := float64(float32(*p))
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

// appendFloat32 appends f as encoding/json writes a float32.
func appendFloat32(b []byte, f float32) []byte {
	abs := math.Abs(float64(f))
	format := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, float64(f), format, -1, 32)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// encodeRequestJSON is encodeRequest through encoding/json, for requests
// it refuses (a NaN or infinite sampling knob), so the error is its own.
func encodeRequestJSON(req *runtime.Request, schema json.RawMessage) ([]byte, error) {
	w := wireRequestOf(req, schema)
	buf := getBuf()
	defer putBuf(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: "encoding request: " + err.Error(), Err: err}
	}
	return bytes.Clone(buf.Bytes()), nil
}

// wireRequestOf is req as the wire structs, schema already encoded.
func wireRequestOf(req *runtime.Request, schema json.RawMessage) wireRequest {
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
	if schema != nil {
		g.ResponseSchema = schema
		g.ResponseMIMEType = "application/json"
	}
	return w
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
