package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// exchange is one request's bookkeeping; ServeHTTP finishes it.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	e    LogEntry
	body []byte
}

func (x *exchange) writeJSON(code int, b []byte) {
	h := x.w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	x.w.WriteHeader(code)
	x.w.Write(b) //nolint:errcheck // the client may be gone
	x.e.Status = code
}

func (x *exchange) fail(e *apiErr) {
	writeAPIErr(x.w, e)
	x.e.Status = e.Code
	if x.e.Kind == "" {
		x.e.Kind = e.kind
	}
}

// ServeHTTP routes the Gemini REST surface under /v1beta and /v1, Vertex
// AI's under /v1beta1/projects/… and /v1/projects/…, OpenAI's chat
// completions under /v1, and the OAuth token endpoint tests' credentials use.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handlers.Add(1)
	defer s.handlers.Done()
	x := &exchange{w: w, r: r, e: LogEntry{Time: time.Now(), Method: r.Method, Path: r.URL.Path}}
	defer s.finish(x)

	path := r.URL.Path
	if path == "/stats" && r.Method == http.MethodGet {
		s.serveStats(x)
		return
	}
	if strings.HasSuffix(path, "/upload/v1beta/files") || strings.HasSuffix(path, "/upload/v1/files") {
		s.serveUpload(x)
		return
	}
	if path == tokenPath {
		s.serveToken(x)
		return
	}
	// The Guide's curl downloads from /download/v1beta/files/{id}:download.
	path = strings.TrimPrefix(path, "/download")
	rest, ok := strings.CutPrefix(path, "/v1beta/")
	if !ok {
		rest, ok = strings.CutPrefix(path, "/v1/")
	}
	if !ok {
		rest, ok = strings.CutPrefix(path, "/v1beta1/")
	}
	if !ok {
		x.fail(errNotFound(path))
		return
	}
	if rest == "chat/completions" {
		s.serveChat(x)
		return
	}
	if strings.HasPrefix(rest, "projects/") {
		// Vertex AI: the same resources under a project and location,
		// with an OAuth token instead of an API key.
		if rest, ok = s.vertexResource(x, rest); !ok {
			return
		}
	}
	switch {
	case strings.HasPrefix(rest, "models/"):
		model, method, found := strings.Cut(strings.TrimPrefix(rest, "models/"), ":")
		if !found || model == "" || strings.Contains(model, "/") || r.Method != http.MethodPost {
			x.fail(errNotFound(path))
			return
		}
		x.e.Model = model
		switch method {
		case "generateContent":
			s.serveGenerate(x, model, false)
		case "streamGenerateContent":
			s.serveGenerate(x, model, true)
		case "countTokens":
			s.serveCountTokens(x, model)
		case "batchGenerateContent":
			s.serveBatchCreate(x, model)
		default:
			x.fail(errNotFound(path))
		}
	case rest == "cachedContents":
		switch r.Method {
		case http.MethodPost:
			s.serveCacheCreate(x)
		case http.MethodGet:
			s.serveCacheList(x)
		default:
			x.fail(errNotFound(path))
		}
	case strings.HasPrefix(rest, "cachedContents/") && !strings.Contains(rest[len("cachedContents/"):], "/"):
		s.serveCache(x, rest)
	case rest == "batches":
		s.serveBatchList(x)
	case strings.HasPrefix(rest, "batches/") && len(rest) > len("batches/") && !strings.Contains(rest[len("batches/"):], "/"):
		s.serveBatch(x, rest)
	case rest == "files":
		s.serveFileList(x)
	case strings.HasPrefix(rest, "files/") && !strings.Contains(rest[len("files/"):], "/"):
		s.serveFile(x, rest[len("files/"):])
	default:
		x.fail(errNotFound(path))
	}
}

// finish counts and logs the exchange.
func (s *Server) finish(x *exchange) {
	key := "reset"
	if x.e.Status != 0 {
		key = strconv.Itoa(x.e.Status)
	}
	s.st.request(key)
	s.logExchange(x)
}

// logExchange writes the exchange's log entry, if there is a log.
func (s *Server) logExchange(x *exchange) {
	if !s.log.enabled() {
		return
	}
	if x.r != nil { // not for the requests of a job that never ran them
		x.e.LatencyMS = float64(time.Since(x.e.Time).Microseconds()) / 1000
	}
	if s.cfg.LogBodies && len(x.body) > 0 {
		// Compact: the log is one line per request.
		var buf bytes.Buffer
		if json.Compact(&buf, x.body) == nil {
			x.e.Body = buf.Bytes()
		} else {
			x.e.Body = appendString(nil, string(x.body))
		}
	}
	s.log.add(&x.e)
}

const maxBody = 64 << 20

func (s *Server) readBody(x *exchange) bool {
	var buf bytes.Buffer
	if n := x.r.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead) // one allocation when the client says the size
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(x.w, x.r.Body, maxBody)); err != nil {
		x.fail(errBadRequest("reading request body: " + err.Error()))
		return false
	}
	x.body = buf.Bytes()
	return true
}

// decode reads the body as JSON into v, answering 400 on failure the way
// the real API words it.
func (s *Server) decode(x *exchange, v any) bool {
	if !s.readBody(x) {
		return false
	}
	return s.parseBody(x, v)
}

// parseBody decodes x.body as decode does.
func (s *Server) parseBody(x *exchange, v any) bool {
	if len(x.body) == 0 {
		x.body = []byte("{}")
	}
	if req, ok := v.(*genRequest); ok && decodeGenRequest(x.body, req) {
		return true
	}
	if err := json.Unmarshal(x.body, v); err != nil {
		x.fail(errBadRequest("Invalid JSON payload received. " + err.Error()))
		return false
	}
	return true
}

func (s *Server) serveStats(x *exchange) {
	b, err := json.Marshal(s.Stats())
	if err != nil {
		x.fail(newAPIErr(500, err.Error(), "internal"))
		return
	}
	x.writeJSON(http.StatusOK, b)
}

type countRequest struct {
	Contents               []content   `json:"contents"`
	GenerateContentRequest *genRequest `json:"generateContentRequest"`
}

func (s *Server) serveCountTokens(x *exchange, model string) {
	var req countRequest
	if !s.decode(x, &req) {
		return
	}
	n, cached := countTokens(req.Contents, nil), 0
	if g := req.GenerateContentRequest; g != nil {
		n += countTokens(g.Contents, g.SystemInstruction)
		if g.CachedContent != "" {
			ce, ok := s.caches.lookup(time.Now(), g.CachedContent)
			if !ok {
				x.fail(errCacheNotFound())
				return
			}
			cached = ce.tokens
			n += cached
		}
	}
	b := []byte(`{"totalTokens":`)
	b = strconv.AppendInt(b, int64(n), 10)
	if cached > 0 {
		b = append(b, `,"cachedContentTokenCount":`...)
		b = strconv.AppendInt(b, int64(cached), 10)
	}
	b = append(b, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "}]}"...)
	x.e.PromptTokens, x.e.CachedTokens = n, cached
	x.writeJSON(http.StatusOK, b)
}

func (s *Server) serveCacheCreate(x *exchange) {
	var req cacheCreate
	if !s.decode(x, &req) {
		return
	}
	e, aerr := s.caches.create(time.Now(), &req, s.cfg.MinCacheTokens)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	x.e.Model, x.e.Cache, x.e.PromptTokens = e.model, e.name, e.tokens
	x.writeJSON(http.StatusOK, marshalCache(e))
}

func (s *Server) serveCacheList(x *exchange) {
	all := s.caches.list(time.Now())
	q := x.r.URL.Query()
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if size <= 0 || size > 1000 {
		size = 100
	}
	from, _ := strconv.Atoi(q.Get("pageToken"))
	if from < 0 || from > len(all) {
		from = len(all)
	}
	to := min(from+size, len(all))
	page := make([]map[string]any, 0, to-from)
	for i := from; i < to; i++ {
		page = append(page, all[i].json())
	}
	out := map[string]any{"cachedContents": page}
	if to < len(all) {
		out["nextPageToken"] = strconv.Itoa(to)
	}
	b, _ := json.Marshal(out)
	x.writeJSON(http.StatusOK, b)
}

func (s *Server) serveCache(x *exchange, name string) {
	now := time.Now()
	x.e.Cache = name
	switch x.r.Method {
	case http.MethodGet:
		e, ok := s.caches.lookup(now, name)
		if !ok {
			x.fail(errCacheNotFound())
			return
		}
		x.writeJSON(http.StatusOK, marshalCache(&e))
	case http.MethodPatch:
		var req struct {
			TTL        string `json:"ttl"`
			ExpireTime string `json:"expireTime"`
		}
		if !s.decode(x, &req) {
			return
		}
		e, aerr := s.caches.update(now, name, req.TTL, req.ExpireTime)
		if aerr != nil {
			x.fail(aerr)
			return
		}
		x.writeJSON(http.StatusOK, marshalCache(&e))
	case http.MethodDelete:
		if !s.caches.remove(now, name) {
			x.fail(errCacheNotFound())
			return
		}
		x.writeJSON(http.StatusOK, []byte("{}"))
	default:
		x.fail(errNotFound(x.r.URL.Path))
	}
}
