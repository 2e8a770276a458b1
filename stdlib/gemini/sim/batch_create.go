package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// maxInlineBatch is the largest create body: inline requests must stay
// under 20 MB (Guide).
const maxInlineBatch = 20 << 20

// serveBatchCreate handles POST models/{m}:batchGenerateContent.
func (s *Server) serveBatchCreate(x *exchange, model string) {
	x.e.Kind = "batch:create"
	if !s.readBody(x) {
		return
	}
	if len(x.body) > maxInlineBatch {
		x.fail(errBadRequest(fmt.Sprintf("Request payload size exceeds the limit: %d bytes.", maxInlineBatch)))
		return
	}
	j, aerr := s.parseBatch(x.body, model)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	b := s.batches
	b.mu.Lock()
	now := b.clock.Now()
	if limit := perModel(s.cfg.BatchEnqueuedTokens, model); limit > 0 && b.enqueued[model]+j.tokens > limit {
		queued := b.enqueued[model]
		b.mu.Unlock()
		s.st.batch(func(c *BatchCounts) { c.Rejected++ })
		x.e.Kind = "batch:enqueued_tokens"
		x.fail(errEnqueued(model, limit, queued, j.tokens))
		return
	}
	j.id = s.ids.next()
	b.seq++
	j.outcome = s.drawOutcome(b.seq)
	j.created, j.updated, j.due = now, now, now.Add(s.cfg.BatchLatency)
	j.state = batchPending
	b.byID[j.id] = j
	b.order = append(b.order, j)
	b.enqueued[model] += j.tokens
	out := marshalOperation(j, true)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	s.st.batch(func(c *BatchCounts) { c.Created++ })
	x.e.Batch = j.name()
	x.writeJSON(http.StatusOK, out)
}

// errEnqueued is the 429 for a create over the enqueued-token limit. The
// real wording is not documented; the QuotaFailure names the limit so a
// client can tell it from a per-minute quota.
func errEnqueued(model string, limit, queued, tokens int) *apiErr {
	e := newAPIErr(429, fmt.Sprintf("Resource has been exhausted: the batch's %d input tokens and the %d enqueued for models/%s exceed the enqueued-token limit of %d.", tokens, queued, model, limit), "batch_enqueued_tokens")
	e.Details = []map[string]any{{
		"@type": "type.googleapis.com/google.rpc.QuotaFailure",
		"violations": []map[string]any{{
			"quotaMetric":     "generativelanguage.googleapis.com/batch_enqueued_tokens",
			"quotaId":         "BatchEnqueuedTokensPerModel",
			"quotaDimensions": map[string]string{"model": model},
			"quotaValue":      strconv.Itoa(limit),
		}},
	}}
	return e
}

// createInput is what a create body asks for.
type createInput struct {
	displayName, fileName string
	inline                bool // inputConfig.requests was given
	reqs                  []batchReq
}

// parseBatch reads a create body, camelCase or snake_case, into a job
// that is not yet registered.
func (s *Server) parseBatch(body []byte, model string) (*batchJob, *apiErr) {
	in, ok := fastCreate(body)
	if !ok {
		var aerr *apiErr
		if in, aerr = slowCreate(body); aerr != nil {
			return nil, aerr
		}
	}
	j := &batchJob{model: model, displayName: in.displayName}
	switch {
	case in.fileName != "" && in.inline:
		return nil, errBadRequest("* GenerateContentBatch.input_config: set either file_name or requests, not both")
	case in.fileName == "" && !in.inline:
		return nil, errBadRequest("* GenerateContentBatch.input_config: file_name or requests is required")
	case in.inline:
		j.reqs = in.reqs
		j.inline = make([]json.RawMessage, 0, len(j.reqs))
	default:
		f, ok := s.files.get(in.fileName)
		if !ok {
			return nil, errFileNotFound(fileID(in.fileName))
		}
		j.inputFile = f.name()
		reqs, aerr := parseInputFile(f)
		if aerr != nil {
			return nil, aerr
		}
		j.reqs = reqs
	}
	if len(j.reqs) == 0 {
		return nil, errBadRequest("* GenerateContentBatch.input_config: the batch has no requests")
	}
	for i := range j.reqs {
		j.reqs[i].tokens = requestTokens(j.reqs[i].body)
		j.tokens += j.reqs[i].tokens
	}
	j.count = len(j.reqs)
	return j, nil
}

// slowCreate reads any create body through generic values, renaming
// snake_case fields, and words the errors.
func slowCreate(body []byte) (createInput, *apiErr) {
	var in createInput
	v, err := decodeAny(body)
	if err != nil {
		return in, errBadRequest("Invalid JSON payload received. " + err.Error())
	}
	root, _ := camelKeys(v).(map[string]any)
	batch, _ := root["batch"].(map[string]any)
	if batch == nil {
		return in, errBadRequest("* BatchGenerateContentRequest.batch: batch is required")
	}
	in.displayName, _ = batch["displayName"].(string)
	ic, _ := batch["inputConfig"].(map[string]any)
	in.fileName, _ = ic["fileName"].(string)
	var list []any
	if rs, ok := ic["requests"].(map[string]any); ok {
		list, in.inline = rs["requests"].([]any)
	}
	for i, el := range list {
		m, _ := el.(map[string]any)
		req, ok := m["request"].(map[string]any)
		if !ok {
			return in, errBadRequest(fmt.Sprintf("* GenerateContentBatch.input_config.requests.requests[%d].request: request is required", i))
		}
		r := batchReq{}
		if md, ok := m["metadata"].(map[string]any); ok {
			r.key = keyString(md["key"])
			r.metadata, _ = json.Marshal(md)
		}
		r.body, _ = json.Marshal(req)
		in.reqs = append(in.reqs, r)
	}
	return in, nil
}

// fastCreate reads a create body with no underscore in any object key
// (nothing to rename: what the SDKs send) straight into raw requests,
// without generic values. ok false sends the body to slowCreate, which
// also words any error.
func fastCreate(body []byte) (in createInput, ok bool) {
	if !noSnakeKeys(string(body)) {
		return in, false
	}
	var v struct {
		Batch *struct {
			DisplayName string `json:"displayName"`
			InputConfig struct {
				FileName string `json:"fileName"`
				Requests *struct {
					Requests []struct {
						Request  json.RawMessage `json:"request"`
						Metadata json.RawMessage `json:"metadata"`
					} `json:"requests"`
				} `json:"requests"`
			} `json:"inputConfig"`
		} `json:"batch"`
	}
	if json.Unmarshal(body, &v) != nil || v.Batch == nil {
		return in, false
	}
	in.displayName, in.fileName = v.Batch.DisplayName, v.Batch.InputConfig.FileName
	if rs := v.Batch.InputConfig.Requests; rs != nil && rs.Requests != nil {
		in.inline = true
		in.reqs = make([]batchReq, 0, len(rs.Requests))
		for _, el := range rs.Requests {
			if !isObject(el.Request) {
				return in, false
			}
			r := batchReq{body: el.Request}
			if isObject(el.Metadata) {
				var md map[string]any
				d := json.NewDecoder(bytes.NewReader(el.Metadata))
				d.UseNumber()
				if d.Decode(&md) != nil {
					return in, false
				}
				r.key, r.metadata = keyString(md["key"]), el.Metadata
			}
			in.reqs = append(in.reqs, r)
		}
	}
	return in, true
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// parseInputFile reads a JSONL input file: {"key": K, "request": {…}} per
// line, blank lines skipped.
func parseInputFile(f *simFile) ([]batchReq, *apiErr) {
	var out []batchReq
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	sc.Buffer(nil, maxFileBytes)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if key, req, ok := fastLine(line); ok {
			out = append(out, batchReq{key: key, body: req})
			continue
		}
		v, err := decodeAny(line)
		m, _ := camelKeys(v).(map[string]any)
		if err != nil || m == nil {
			return nil, errBadRequest(fmt.Sprintf("%s line %d: not a JSON object", f.name(), n))
		}
		req, ok := m["request"].(map[string]any)
		if !ok {
			return nil, errBadRequest(fmt.Sprintf("%s line %d: request is required", f.name(), n))
		}
		r := batchReq{key: keyString(m["key"])}
		r.body, _ = json.Marshal(req)
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, errBadRequest(fmt.Sprintf("%s: %v", f.name(), err))
	}
	return out, nil
}

// fastLine reads an input line {"key": K, "request": {…}} without building
// generic values, when nothing in the request needs renaming (no object key
// with an underscore). It copies the request's bytes out of line, which
// the caller reuses. ok false sends the line to the general path, which
// also words any error.
func fastLine(line []byte) (key string, req []byte, ok bool) {
	d := wireDecoder{jsonscan.New(string(line))}
	d.MaxDepth = wireMaxDepth
	var raw string
	done := d.Members(func(k string) bool {
		var ok bool
		switch k {
		case "key":
			switch c := d.Peek(); {
			case c == '"':
				key, ok = d.Str()
			case c == '-' || '0' <= c && c <= '9':
				key, ok = d.Number()
			}
			return ok
		case "request":
			if d.Peek() != '{' {
				return false
			}
			raw, ok = d.Raw()
			return ok && noSnakeKeys(raw)
		}
		return d.Skip()
	}, "key", "request")
	if !done || !d.End() || raw == "" {
		return "", nil, false
	}
	return key, []byte(raw), true
}

// noSnakeKeys reports whether no object key in the JSON text holds an
// underscore (and the nesting stays within wireMaxDepth).
func noSnakeKeys(raw string) bool {
	d := wireDecoder{jsonscan.New(raw)}
	d.MaxDepth = wireMaxDepth
	return d.noSnake(0) && d.End()
}

func (d *wireDecoder) noSnake(depth int) bool {
	if depth > wireMaxDepth {
		return false
	}
	switch d.Peek() {
	case '{':
		more, ok := d.Open('{')
		for ok && more {
			k, kok := d.Key()
			if !kok || strings.IndexByte(k, '_') >= 0 || !d.noSnake(depth+1) {
				return false
			}
			more, ok = d.Next('}')
		}
		return ok
	case '[':
		return d.Elements(func() bool { return d.noSnake(depth + 1) })
	}
	return d.Skip()
}

// keyString reads a key; a number is taken as its text.
func keyString(v any) string {
	switch k := v.(type) {
	case string:
		return k
	case json.Number:
		return k.String()
	}
	return ""
}

// requestTokens counts a request's input tokens as the enqueued-token
// limit sees them: contents and system instruction, not cached content.
// A request that does not decode counts 0; it fails when it runs.
func requestTokens(body []byte) int {
	var g genRequest
	if !decodeGenRequest(body, &g) && json.Unmarshal(body, &g) != nil {
		return 0
	}
	return countTokens(g.Contents, g.SystemInstruction)
}
