package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The OpenAI chat-completions surface (POST /v1/chat/completions), for
// llmpipe's OpenAI-compatible provider and the official openai clients.
//
// A chat request is translated into the generateContent request it stands
// for and answered by the same decision steps (quota, script, faults,
// latency, reply, wrong answers by model id), so every simulator flag
// applies to both dialects and the same prompt gets the same answer. The
// Gemini-shaped reply is then rewritten as OpenAI's: a chat.completion (or
// its SSE chunks when stream is true), or an OpenAI error body whose 429s
// carry retry-after and x-ratelimit-* headers.

// chatRequest is the part of a chat-completions body the simulator reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"` // a string, or parts with text
	} `json:"messages"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	MaxTokens     int      `json:"max_tokens"`
	MaxCompletion int      `json:"max_completion_tokens"`
	Stream        bool     `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

// messageText is a message's text, from a string or from text parts.
func messageText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// geminiBody is the generateContent body a chat request stands for.
func (cr *chatRequest) geminiBody() ([]byte, error) {
	type part struct {
		Text string `json:"text"`
	}
	type content struct {
		Role  string `json:"role,omitempty"`
		Parts []part `json:"parts"`
	}
	var sys []string
	var contents []content
	for _, m := range cr.Messages {
		t := messageText(m.Content)
		switch m.Role {
		case "system", "developer":
			sys = append(sys, t)
		case "assistant":
			contents = append(contents, content{Role: "model", Parts: []part{{t}}})
		default:
			contents = append(contents, content{Role: "user", Parts: []part{{t}}})
		}
	}
	gc := map[string]any{}
	if cr.Temperature != nil {
		gc["temperature"] = *cr.Temperature
	}
	if cr.TopP != nil {
		gc["topP"] = *cr.TopP
	}
	if n := max(cr.MaxTokens, cr.MaxCompletion); n > 0 {
		gc["maxOutputTokens"] = n
	}
	if rf := cr.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_schema":
			gc["responseMimeType"] = "application/json"
			if rf.JSONSchema != nil && hasJSON(rf.JSONSchema.Schema) {
				gc["responseJsonSchema"] = rf.JSONSchema.Schema
			}
		case "json_object":
			gc["responseMimeType"] = "application/json"
		}
	}
	if _, has := gc["responseJsonSchema"]; !has {
		// A server without structured output gets the schema in words; a
		// model that follows the instruction answers in that shape.
		if sc := schemaInInstruction(strings.Join(sys, "\n")); sc != nil {
			gc["responseMimeType"] = "application/json"
			gc["responseJsonSchema"] = sc
		}
	}
	body := map[string]any{"contents": contents}
	if len(sys) > 0 {
		body["systemInstruction"] = content{Parts: []part{{strings.Join(sys, "\n\n")}}}
	}
	if len(gc) > 0 {
		body["generationConfig"] = gc
	}
	return json.Marshal(body)
}

// schemaInInstruction finds a JSON Schema given in words ("… JSON Schema:"
// followed by the schema), as llmpipe's provider writes it for servers
// without structured output.
func schemaInInstruction(text string) json.RawMessage {
	i := strings.Index(text, "JSON Schema:")
	if i < 0 {
		return nil
	}
	var raw json.RawMessage
	if err := json.NewDecoder(strings.NewReader(text[i+len("JSON Schema:"):])).Decode(&raw); err != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return nil
	}
	return raw
}

// serveChat answers POST /v1/chat/completions.
func (s *Server) serveChat(x *exchange) {
	if x.r.Method != http.MethodPost {
		x.fail(errNotFound(x.r.URL.Path))
		return
	}
	if !s.readBody(x) {
		return
	}
	var cr chatRequest
	if err := json.Unmarshal(x.body, &cr); err != nil || cr.Model == "" || len(cr.Messages) == 0 {
		writeOpenAIError(x.w, http.StatusBadRequest, "invalid_request_error", "the body must be a chat-completions request with a model and messages", nil)
		x.e.Status = http.StatusBadRequest
		return
	}
	body, err := cr.geminiBody()
	if err != nil {
		writeOpenAIError(x.w, http.StatusBadRequest, "invalid_request_error", err.Error(), nil)
		x.e.Status = http.StatusBadRequest
		return
	}
	x.e.Model = cr.Model
	// The generate steps read the body again: give them the Gemini form.
	x.r.Body = io.NopCloser(bytes.NewReader(body))
	x.r.ContentLength = int64(len(body))
	real := x.w
	tw := &translatingWriter{real: real, header: http.Header{}}
	x.w = tw
	s.serveGenerate(x, cr.Model, false)
	x.w = real
	if tw.hijacked {
		return
	}
	tw.translate(&cr, x)
}

// translatingWriter holds the Gemini-shaped reply so it can be rewritten;
// a connection reset still reaches the real connection.
type translatingWriter struct {
	real     http.ResponseWriter
	header   http.Header
	code     int
	buf      bytes.Buffer
	hijacked bool
}

func (w *translatingWriter) Header() http.Header { return w.header }
func (w *translatingWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *translatingWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.buf.Write(b)
}
func (w *translatingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.real.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("connection cannot be hijacked")
	}
	w.hijacked = true
	return hj.Hijack()
}

// geminiReply is the part of a generateContent reply the rewrite needs.
type geminiReply struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata struct {
		PromptTokenCount        int `json:"promptTokenCount"`
		CandidatesTokenCount    int `json:"candidatesTokenCount"`
		CachedContentTokenCount int `json:"cachedContentTokenCount"`
		ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	} `json:"usageMetadata"`
	ResponseID string `json:"responseId"`
	Error      *struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Status  string           `json:"status"`
		Details []map[string]any `json:"details"`
	} `json:"error"`
}

// translate writes the held reply in OpenAI's shape.
func (w *translatingWriter) translate(cr *chatRequest, x *exchange) {
	if w.code == 0 {
		return // the client left; nothing was written
	}
	var g geminiReply
	if err := json.Unmarshal(w.buf.Bytes(), &g); err != nil {
		// A truncated body (a fault): pass the broken bytes on as they are.
		w.real.Header().Set("Content-Type", "application/json")
		w.real.WriteHeader(w.code)
		w.real.Write(w.buf.Bytes()) //nolint:errcheck // the client may be gone
		return
	}
	if w.code != http.StatusOK || g.Error != nil {
		w.translateError(&g)
		return
	}
	text, finish := "", "stop"
	if len(g.Candidates) > 0 {
		for _, p := range g.Candidates[0].Content.Parts {
			text += p.Text
		}
		finish = openAIFinish(g.Candidates[0].FinishReason)
	}
	u := g.UsageMetadata
	usage := map[string]any{
		"prompt_tokens":             u.PromptTokenCount,
		"completion_tokens":         u.CandidatesTokenCount + u.ThoughtsTokenCount,
		"total_tokens":              u.PromptTokenCount + u.CandidatesTokenCount + u.ThoughtsTokenCount,
		"prompt_tokens_details":     map[string]any{"cached_tokens": u.CachedContentTokenCount},
		"completion_tokens_details": map[string]any{"reasoning_tokens": u.ThoughtsTokenCount},
	}
	id := "chatcmpl-" + g.ResponseID
	created := time.Now().Unix()
	if cr.Stream {
		w.stream(cr, id, created, text, finish, usage)
		return
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": cr.Model,
		"choices": []map[string]any{{
			"index": 0, "finish_reason": finish, "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": text, "refusal": nil},
		}},
		"usage": usage,
	})
	h := w.real.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.real.WriteHeader(http.StatusOK)
	w.real.Write(b) //nolint:errcheck // the client may be gone
	x.e.Status = http.StatusOK
}

// stream sends the reply as chat.completion.chunk events, the text in a
// few pieces, then usage when asked for, then [DONE].
func (w *translatingWriter) stream(cr *chatRequest, id string, created int64, text, finish string, usage map[string]any) {
	h := w.real.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.real.WriteHeader(http.StatusOK)
	flusher, _ := w.real.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w.real, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": cr.Model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for _, piece := range splitPieces(text, 3) {
		send(chunk(map[string]any{"content": piece}, nil))
	}
	send(chunk(map[string]any{}, finish))
	if cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage {
		send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": cr.Model,
			"choices": []any{}, "usage": usage})
	}
	fmt.Fprint(w.real, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// splitPieces cuts s into at most n pieces on rune boundaries.
func splitPieces(s string, n int) []string {
	r := []rune(s)
	if len(r) == 0 {
		return nil
	}
	size := (len(r) + n - 1) / n
	var out []string
	for i := 0; i < len(r); i += size {
		out = append(out, string(r[i:min(i+size, len(r))]))
	}
	return out
}

func openAIFinish(gemini string) string {
	switch gemini {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST":
		return "content_filter"
	}
	return "stop"
}

// translateError rewrites a Gemini error as OpenAI's, with the rate-limit
// headers OpenAI-compatible servers send on a 429.
func (w *translatingWriter) translateError(g *geminiReply) {
	code, msg, typ := w.code, "", "api_error"
	if g.Error != nil {
		msg = g.Error.Message
	}
	var extra http.Header
	switch {
	case code == http.StatusTooManyRequests:
		typ = "rate_limit_exceeded"
		extra = http.Header{}
		delay := time.Duration(0)
		if g.Error != nil {
			for _, d := range g.Error.Details {
				if rd, ok := d["retryDelay"].(string); ok {
					if v, err := time.ParseDuration(rd); err == nil {
						delay = v
					}
				}
			}
		}
		if delay > 0 {
			extra.Set("retry-after", strconv.FormatFloat(delay.Seconds(), 'f', -1, 64))
			extra.Set("retry-after-ms", strconv.FormatInt(delay.Milliseconds(), 10))
			extra.Set("x-ratelimit-reset-requests", delay.String())
		}
		extra.Set("x-ratelimit-remaining-requests", "0")
	case code >= 500:
		typ = "server_error"
	case code >= 400:
		typ = "invalid_request_error"
	}
	writeOpenAIError(w.real, code, typ, msg, extra)
}

func writeOpenAIError(w http.ResponseWriter, code int, typ, msg string, extra http.Header) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": typ}})
	h := w.Header()
	for k, v := range extra {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b) //nolint:errcheck // the client may be gone
}
