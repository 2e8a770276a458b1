package sim

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/itemkey"
)

// call is what the decision steps of one generate request share.
type call struct {
	x      *exchange
	model  string
	item   string
	n      int
	stream bool
	req    genRequest
	sc     *schema // the response schema, nil for plain text
	u      usage   // prompt and cached tokens known before the reply
	fr     *stream // fault and latency draws: keyed by (item, model, n)
	// batch marks an inner request of a batch job: no quota, no latency,
	// and faults that need a connection (hang, reset, truncate) become
	// error replies.
	batch bool
}

// serveGenerate runs the decision steps documented in the package comment.
func (s *Server) serveGenerate(x *exchange, model string, stream bool) {
	c := &call{x: x, model: model, item: itemOf(x.r.Header.Get("x-llmpipe-item")), stream: stream}
	c.n = s.st.nextCall(c.item, model, true)
	x.e.Item, x.e.Call = c.item, c.n
	if !s.decode(x, &c.req) {
		return
	}
	s.generate(c)
}

// generate runs the decision steps on a decoded request.
func (s *Server) generate(c *call) {
	x, model := c.x, c.model

	// 1. Requests the API refuses outright.
	if c.req.CachedContent != "" {
		x.e.Cache = c.req.CachedContent
		ce, ok := s.caches.lookup(x.e.Time, c.req.CachedContent)
		if !ok {
			x.fail(errCacheNotFound())
			return
		}
		if ce.model != model {
			x.fail(errBadRequest(fmt.Sprintf("Model used by GenerateContent request (models/%s) and CachedContent (models/%s) has to be the same.", model, ce.model)))
			return
		}
		if c.req.SystemInstruction != nil || hasJSON(c.req.Tools) {
			x.fail(errBadRequest("CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request."))
			return
		}
		c.u.cached = ce.tokens
	}
	if len(c.req.Contents) == 0 {
		x.fail(errBadRequest("* GenerateContentRequest.contents: contents is not specified"))
		return
	}
	if s.poison[c.item] {
		x.fail(newAPIErr(400, "Request contains an invalid argument.", "poison"))
		return
	}
	sc, aerr := s.responseSchema(&c.req)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	c.sc = sc
	if aerr := s.checkThinking(&c.req, model); aerr != nil {
		x.fail(aerr)
		return
	}
	c.u.prompt = countTokens(c.req.Contents, c.req.SystemInstruction) + c.u.cached
	x.e.PromptTokens, x.e.CachedTokens = c.u.prompt, c.u.cached

	// 2. Quota, for online calls only: batch jobs have their own.
	if !c.batch && !s.admit(c) {
		return
	}

	c.fr = s.seed.str("call").str(c.item).str(model).u64(uint64(c.n)).rng()

	// 3. Script.
	if line := scriptFor(s.script, c.item, model, c.n); line != nil {
		s.scripted(c, line)
		return
	}

	// 4. Random fault, drawn before latency so the latency draw does not
	// shift with the fault table.
	fault := ""
	u := c.fr.float()
	for _, k := range FaultKinds {
		if p := s.cfg.Fail[k]; p > 0 {
			if u < p {
				fault = k
				break
			}
			u -= p
		}
	}
	lat := latency(&s.cfg, c.fr, time.Since(s.start))
	if c.batch {
		lat = 0 // the job's latency stands for it
	}
	if fault != "" {
		s.fault(c, fault, lat)
		return
	}

	// 5. Latency, then the reply.
	if !s.sleep(x.r.Context(), lat) {
		s.interrupted(c)
		return
	}
	text, finish := s.reply(c)
	s.succeed(c, text, finish, false)
}

// admit asks the quota; a refused call gets its 429 and false.
func (s *Server) admit(c *call) bool {
	x := c.x
	counted := c.u.prompt
	if !s.cfg.CachedCountTPM {
		counted -= c.u.cached
	}
	now, vs := s.quotas.admit(c.model, counted)
	x.e.Time, x.e.Window = now, s.window(now)
	if len(vs) > 0 {
		axes := make([]string, len(vs))
		for i, v := range vs {
			axes[i] = v.axis
		}
		s.st.rejected(c.model, axes)
		x.e.Kind = "quota:" + strings.Join(axes, ",")
		x.fail(errQuota(c.model, vs))
		return false
	}
	x.e.Accepted = true
	s.st.accepted(c.model, x.e.Window, counted)
	return true
}

// itemOf is the item id an x-llmpipe-item header value, or a batch
// request's key (the client sends the same value in both), stands for,
// decoded with itemkey.Decode. A long id arrives hashed and stays so; a
// value that is not a valid key (a hand-made request) is taken as it is.
func itemOf(h string) string {
	id, err := itemkey.Decode(h)
	if err != nil {
		return h
	}
	return id
}

// sameKey is the form an id takes after the trip through the header:
// itself, or its hash key when it is too long to send.
func sameKey(id string) string {
	if k := itemkey.Encode(id); strings.HasPrefix(k, itemkey.HashPrefix) {
		return k
	}
	return id
}

// interrupted answers a request whose wait was cut short: nothing if the
// client left, 503 if the server is closing.
func (s *Server) interrupted(c *call) {
	if c.x.r.Context().Err() != nil {
		c.x.e.Status, c.x.e.Kind = 499, "client_gone"
		return
	}
	c.x.fail(newAPIErr(503, "The service is shutting down.", "shutdown"))
}

// responseSchema parses (or recalls) the request's schema; nil without one.
func (s *Server) responseSchema(req *genRequest) (*schema, *apiErr) {
	gc := req.GenerationConfig
	if gc == nil {
		return nil, nil
	}
	var sc *schema
	var err error
	switch {
	case hasJSON(gc.ResponseSchema):
		sc, err = s.schemas.get(gc.ResponseSchema, false)
	case hasJSON(gc.ResponseJSONSchema):
		sc, err = s.schemas.get(gc.ResponseJSONSchema, true)
	}
	if err != nil {
		return nil, errBadRequest("* GenerateContentRequest.generation_config.response_schema: " + err.Error())
	}
	return sc, nil
}

// reply generates the text for a request: JSON for a schema, prose
// otherwise, possibly wrong on purpose.
func (s *Server) reply(c *call) (text, finish string) {
	// One key for both the content and the wrongness draw.
	h := s.attemptHash(c)
	r := h.str("reply").rng()
	p := analyzePrompt(c.req.promptText())
	finish = "STOP"
	sc := c.sc
	if sc == nil {
		text = plainText(r, p)
	} else {
		g := generator{r: r, p: p}
		v := g.gen(sc, "")
		ir := h.str("invalid").rng()
		if rate := perModel(s.cfg.Invalid, c.model); rate > 0 && ir.float() < rate {
			var kind string
			text, finish, kind = makeInvalid(ir, &v, sc)
			c.x.e.Kind = "invalid:" + kind
			s.st.count(func(st *Stats) map[string]int64 { return st.Invalid }, kind)
		} else {
			text = string(appendValue(nil, &v))
		}
	}
	c.u.thoughts = s.thoughts(c, h.str("think").rng())
	if gc := c.req.GenerationConfig; gc != nil && gc.MaxOutputTokens > 0 {
		// maxOutputTokens caps thinking and answer together: thoughts
		// come first and may leave no room for any answer at all.
		room := gc.MaxOutputTokens - c.u.thoughts
		if room <= 0 {
			c.u.thoughts, text, finish = gc.MaxOutputTokens, "", "MAX_TOKENS"
		} else if textTokens(text) > room {
			text, finish = truncateTokens(text, room), "MAX_TOKENS"
		}
	}
	return text, finish
}

// checkThinking refuses a thinkingBudget of 0 on a model that always
// thinks, as the API does.
func (s *Server) checkThinking(req *genRequest, model string) *apiErr {
	gc := req.GenerationConfig
	if gc == nil || gc.ThinkingConfig == nil || gc.ThinkingConfig.ThinkingBudget == nil || *gc.ThinkingConfig.ThinkingBudget != 0 {
		return nil
	}
	if m, ok := catalog.Lookup(model); ok && m.Thinking == catalog.ThinkingAlways {
		return errBadRequest("Budget 0 is invalid. This model only works in thinking mode.")
	}
	return nil
}

// thoughts draws how many tokens a thinking model spends thinking before
// it answers: none when the model (see catalog.Model.Thinks) does not
// think under the request's thinkingBudget; else between 64 and 576 tokens
// plus a quarter of the prompt, capped by a positive thinkingBudget.
func (s *Server) thoughts(c *call, r *stream) int {
	m, ok := catalog.Lookup(c.model)
	if !ok {
		return 0
	}
	var budget *int
	if gc := c.req.GenerationConfig; gc != nil && gc.ThinkingConfig != nil {
		budget = gc.ThinkingConfig.ThinkingBudget
	}
	if !m.Thinks(budget) {
		return 0
	}
	n := 64 + r.intn(513) + c.u.prompt/4
	if budget != nil && *budget > 0 {
		n = min(n, *budget)
	}
	return n
}

func truncateRunes(s string, n int) string {
	i := 0
	for n > 0 && i < len(s) {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n--
	}
	return s[:i]
}

// succeed sends a 200 reply (SSE when streaming). With truncate it sends
// the headers and half the body, then drops the connection.
func (s *Server) succeed(c *call, text, finish string, truncate bool) {
	u := c.u
	u.output = textTokens(text)
	c.x.e.OutputTokens, c.x.e.ThinkingTokens = u.output, u.thoughts
	id := responseID(s.seed.str("id").str(c.item).str(c.model).u64(uint64(c.n)).sum())
	if c.stream && c.x.r.URL.Query().Get("alt") == "sse" {
		s.sendSSE(c, text, finish, u, id, truncate)
	} else {
		buf := appendResponse(s.getBuf(), text, finish, u, c.model, id)
		if c.stream { // without alt=sse the API streams one JSON array
			buf = append(append([]byte{'['}, buf...), ']')
		}
		if truncate {
			s.truncate(c.x, buf)
		} else {
			c.x.writeJSON(http.StatusOK, buf)
		}
		s.putBuf(buf)
	}
	if !truncate {
		s.st.success(c.item, u)
	}
}

// hasJSON reports whether an optional field was sent with content.
func hasJSON(raw []byte) bool {
	s := bytes.TrimSpace(raw)
	return len(s) > 0 && string(s) != "null" && string(s) != "[]" && string(s) != "{}"
}
