package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// runJob runs a succeeded job's requests through the same decision steps
// as online calls (minus quota and latency) and keeps the results: inline
// for inline input, a results file files/batch-<id> for file input. The
// caller holds batches.mu.
func (s *Server) runJob(j *batchJob) {
	path := "/v1beta/" + j.name()
	var file []byte
	for i := range j.reqs {
		r := &j.reqs[i]
		res, ok := s.runInner(j, r, path)
		if ok {
			j.ok++
		} else {
			j.failed++
		}
		field := "error"
		if ok {
			field = "response"
		}
		if j.inputFile == "" {
			b := append([]byte(`{"`), field...)
			b = append(append(b, `":`...), res...)
			if len(r.metadata) > 0 {
				b = append(append(b, `,"metadata":`...), r.metadata...)
			}
			j.inline = append(j.inline, append(b, '}'))
			continue
		}
		file = append(file, `{"key":`...)
		file = appendString(file, r.key)
		file = append(append(append(file, `,"`...), field...), `":`...)
		file = append(append(file, res...), "}\n"...)
	}
	j.reqs = nil
	if j.inputFile != "" {
		f := &simFile{
			id: "batch-" + j.id, mimeType: "application/jsonl", source: fileGenerated,
			data: file, created: j.updated, updated: j.updated, final: true,
		}
		s.files.put(f)
		s.st.files(func(fc *FileCounts) { fc.Generated++; fc.Live++ })
		j.resultsFile = f.name()
	}
}

// runInner answers one request of a job. It returns the
// GenerateContentResponse, or the per-request error {code, message} with
// a google.rpc code and no details (go-genai cannot decode detail
// objects there), and whether it is a response.
func (s *Server) runInner(j *batchJob, r *batchReq, path string) (json.RawMessage, bool) {
	rec := &recorder{h: http.Header{}}
	hr := (&http.Request{Method: http.MethodPost, URL: &url.URL{Path: path}, Header: http.Header{}}).WithContext(context.Background())
	now := s.batches.clock.Now()
	x := &exchange{w: rec, r: hr, body: r.body, e: LogEntry{
		Time: now, Method: "BATCH", Path: path, Model: j.model, Batch: j.name(), Key: r.key, Window: s.window(now),
	}}
	c := &call{x: x, model: j.model, item: itemOf(r.key), batch: true}
	c.n = s.st.nextCall(c.item, c.model, false)
	x.e.Item, x.e.Call = c.item, c.n
	if s.parseBody(x, &c.req) {
		s.generate(c)
	}
	s.logExchange(x)
	if rec.code == http.StatusOK {
		return bytes.Clone(rec.buf.Bytes()), true
	}
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	json.Unmarshal(rec.buf.Bytes(), &e) //nolint:errcheck // our own error body
	code, ok := rpcCodes[e.Error.Status]
	if !ok {
		code = 2 // UNKNOWN
	}
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, e.Error.Message})
	return b, false
}

// rpcCodes maps google.rpc.Code names to their numbers.
var rpcCodes = map[string]int{
	"OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
	"NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
	"FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12,
	"NOT_IMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}

// recorder is the in-memory ResponseWriter an inner request answers into.
type recorder struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.buf.Write(b)
}
