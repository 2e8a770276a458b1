package gemini

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/itemkey"
)

// Batch Mode. Jobs are created, polled, listed and cancelled over raw REST
// (the shapes in shared/reference/gemini-batch.md): go-genai drops
// batchStats and the Operation error, and its InlinedRequest does not
// marshal to the REST request shape, while llmpipe's own encoder already
// writes exactly the generateContent body the SDK sends. The input file
// goes up through genai's resumable Files.Upload.

var _ runtime.BatchProvider = (*Provider)(nil)

// DefaultBatchInlineLimit is the largest create body sent inline; above it
// the requests go up as a JSONL file. The service's limit is 20 MB; the
// margin covers the envelope.
const DefaultBatchInlineLimit = 19 << 20

// batchMIMEType is the input file's type. Go's mime package knows no type
// for .jsonl, so it is always given; "jsonl" is what the Batch Mode guide
// uploads with.
const batchMIMEType = "jsonl"

// CreateBatch submits spec as one job: inline when the body stays under
// the inline limit, else as an uploaded JSONL input file.
func (p *Provider) CreateBatch(ctx context.Context, spec *runtime.BatchJobSpec) (string, error) {
	if len(spec.Keys) != len(spec.Requests) {
		return "", fmt.Errorf("gemini: batch job %s: %d keys for %d requests", spec.DisplayName, len(spec.Keys), len(spec.Requests))
	}
	mp, err := modelPath(spec.Model)
	if err != nil {
		return "", &runtime.Error{Class: runtime.ClassFatal, Message: err.Error(), Err: err}
	}
	bodies := make([][]byte, len(spec.Requests))
	size := 0
	for i, r := range spec.Requests {
		b, err := encodeRequest(r, &p.schemas)
		if err != nil {
			return "", err
		}
		bodies[i] = bytes.TrimRight(b, "\n")
		size += len(bodies[i]) + len(spec.Keys[i]) + 64
	}
	var body []byte
	if size <= p.inlineLimit() {
		body = inlineCreateBody(spec, bodies)
	} else {
		file, err := p.uploadRequests(ctx, spec, bodies)
		if err != nil {
			return "", err
		}
		body, _ = json.Marshal(map[string]any{"batch": map[string]any{
			"displayName": spec.DisplayName,
			"inputConfig": map[string]any{"fileName": file},
		}})
	}
	raw, err := p.direct.rest(ctx, http.MethodPost, mp+":batchGenerateContent", nil, body)
	if err != nil {
		return "", classify(ctx, ctx, 0, "creating batch job", err)
	}
	var op wireOperation
	if err := json.Unmarshal(raw, &op); err != nil || op.Name == "" {
		return "", &runtime.Error{Class: runtime.ClassTransient, Message: "batch create reply has no job name"}
	}
	return op.Name, nil
}

func (p *Provider) inlineLimit() int {
	if p.batchInline > 0 {
		return p.batchInline
	}
	return DefaultBatchInlineLimit
}

// inlineCreateBody is the create body with every request inline, keyed by
// metadata.key.
func inlineCreateBody(spec *runtime.BatchJobSpec, bodies [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":{"displayName":`)
	writeJSONString(&b, spec.DisplayName)
	b.WriteString(`,"inputConfig":{"requests":{"requests":[`)
	for i, rb := range bodies {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metadata":{"key":`)
		writeJSONString(&b, itemkey.Encode(spec.Keys[i]))
		b.WriteString(`},"request":`)
		b.Write(rb)
		b.WriteByte('}')
	}
	b.WriteString(`]}}}}`)
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// uploadRequests writes the requests as JSONL to a temporary file and
// uploads it (resumable, in chunks), returning the "files/…" name.
func (p *Provider) uploadRequests(ctx context.Context, spec *runtime.BatchJobSpec, bodies [][]byte) (string, error) {
	f, err := os.CreateTemp("", "llmpipe-batch-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("gemini: batch input file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var line bytes.Buffer
	for i, rb := range bodies {
		line.Reset()
		line.WriteString(`{"key":`)
		writeJSONString(&line, itemkey.Encode(spec.Keys[i]))
		line.WriteString(`,"request":`)
		line.Write(rb)
		line.WriteString("}\n")
		if _, err := w.Write(line.Bytes()); err != nil {
			return "", fmt.Errorf("gemini: batch input file: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return "", fmt.Errorf("gemini: batch input file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("gemini: batch input file: %w", err)
	}
	file, err := uploadNoPanic(ctx, p.client, f, &genai.UploadFileConfig{MIMEType: batchMIMEType, DisplayName: spec.DisplayName + "-input"})
	if err != nil {
		return "", classify(ctx, ctx, 0, "uploading batch input", err)
	}
	if file == nil || file.Name == "" {
		return "", &runtime.Error{Class: runtime.ClassTransient, Message: "upload reply names no file"}
	}
	return file.Name, nil
}

// uploadNoPanic calls Files.Upload; go-genai panics on a final reply
// without a file, which must not take the run down.
func uploadNoPanic(ctx context.Context, c *genai.Client, r io.Reader, cfg *genai.UploadFileConfig) (f *genai.File, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("upload failed: %v", v)
		}
	}()
	return c.Files.Upload(ctx, r, cfg)
}

// BatchStatus polls one job.
func (p *Provider) BatchStatus(ctx context.Context, name string) (*runtime.BatchStatus, error) {
	op, err := p.getBatch(ctx, name)
	if err != nil {
		return nil, err
	}
	return op.status(), nil
}

func (p *Provider) getBatch(ctx context.Context, name string) (*wireOperation, error) {
	if !strings.HasPrefix(name, "batches/") {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: fmt.Sprintf("not a batch job name: %q", name)}
	}
	raw, err := p.direct.rest(ctx, http.MethodGet, name, nil, nil)
	if err != nil {
		return nil, classify(ctx, ctx, 0, "polling "+name, err)
	}
	var op wireOperation
	if err := json.Unmarshal(raw, &op); err != nil {
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: "decoding batch job: " + err.Error(), Err: err}
	}
	if op.Name == "" {
		op.Name = name
	}
	return &op, nil
}

// BatchResults reads a finished job's results: the inlined responses, or
// the results file streamed line by line. Keys travel encoded like the
// x-llmpipe-item header (itemkey); each result gets back the key it was
// given.
func (p *Provider) BatchResults(ctx context.Context, name string, keys []string) ([]runtime.BatchResult, error) {
	res, err := p.batchResults(ctx, name)
	if err != nil {
		return nil, err
	}
	sent := make(map[string]string, len(keys))
	for _, k := range keys {
		sent[itemkey.Encode(k)] = k
	}
	for i := range res {
		if k, ok := sent[res[i].Key]; ok {
			res[i].Key = k
		} else if res[i].Key != "" {
			res[i].Key = "\x00unknown:" + res[i].Key // never matches a job's key
		}
	}
	return res, nil
}

func (p *Provider) batchResults(ctx context.Context, name string) ([]runtime.BatchResult, error) {
	op, err := p.getBatch(ctx, name)
	if err != nil {
		return nil, err
	}
	out := op.output()
	if out == nil {
		return nil, &runtime.Error{Class: runtime.ClassTransient, Message: name + " has no output yet"}
	}
	if out.InlinedResponses != nil {
		res := make([]runtime.BatchResult, len(out.InlinedResponses.InlinedResponses))
		for i, ir := range out.InlinedResponses.InlinedResponses {
			res[i] = decodeResult(ir.Metadata["key"], ir.Response, ir.Error, nil)
			res[i].Index = i
		}
		return res, nil
	}
	if out.ResponsesFile == "" {
		return nil, nil
	}
	body, err := p.direct.download(ctx, out.ResponsesFile)
	if err != nil {
		return nil, classify(ctx, ctx, 0, "downloading "+out.ResponsesFile, err)
	}
	defer body.Close()
	return readResultLines(body)
}

// readResultLines parses a results file: one JSON object per line, with a
// response or an error under the request's key.
func readResultLines(r io.Reader) ([]runtime.BatchResult, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var res []runtime.BatchResult
	for i := 0; ; i++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			// One pass per line: the reply decodes straight into its wire
			// struct rather than through a raw message and a second pass.
			var l struct {
				Key      string          `json:"key"`
				Response *wireResponse   `json:"response"`
				Error    *wireStatus     `json:"error"`
				Status   json.RawMessage `json:"status"`
			}
			if jerr := json.Unmarshal(line, &l); jerr != nil {
				return res, &runtime.Error{Class: runtime.ClassTransient, Message: fmt.Sprintf("results line %d: %v", i+1, jerr), Err: jerr}
			}
			var r runtime.BatchResult
			if l.Error == nil && l.Response != nil {
				r.Key = l.Key
				r.Resp, r.Err = fromWire(l.Response)
			} else {
				r = decodeResult(l.Key, nil, l.Error, l.Status)
			}
			r.Index = len(res)
			res = append(res, r)
		}
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, &runtime.Error{Class: runtime.ClassTransient, Message: "reading results: " + err.Error(), Err: err}
		}
	}
}

// decodeResult turns one result into a Response or a classified error.
func decodeResult(key string, resp json.RawMessage, werr *wireStatus, status json.RawMessage) runtime.BatchResult {
	if werr != nil {
		return runtime.BatchResult{Key: key, Err: werr.classified()}
	}
	if len(resp) == 0 || string(resp) == "null" {
		msg := "result has neither a response nor an error"
		if len(status) > 0 {
			msg = "result status " + string(status)
		}
		return runtime.BatchResult{Key: key, Err: &runtime.Error{Class: runtime.ClassTransient, Message: msg}}
	}
	out, err := decodeResponse(resp)
	if err != nil {
		var de *decodeError
		if errors.As(err, &de) {
			err = &runtime.Error{Class: runtime.ClassTransient, Message: de.Error(), Err: de}
		}
		return runtime.BatchResult{Key: key, Err: err}
	}
	return runtime.BatchResult{Key: key, Resp: out}
}

// CancelBatch asks the service to stop a job.
func (p *Provider) CancelBatch(ctx context.Context, name string) error {
	if _, err := p.direct.rest(ctx, http.MethodPost, name+":cancel", nil, []byte("{}")); err != nil {
		return classify(ctx, ctx, 0, "cancelling "+name, err)
	}
	return nil
}

// ListBatches lists the account's jobs, newest first as the service
// returns them, up to a few thousand.
func (p *Provider) ListBatches(ctx context.Context) ([]runtime.BatchStatus, error) {
	var out []runtime.BatchStatus
	token := ""
	for page := 0; page < 50; page++ {
		q := url.Values{"pageSize": {"100"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		raw, err := p.direct.rest(ctx, http.MethodGet, "batches", q, nil)
		if err != nil {
			return out, classify(ctx, ctx, 0, "listing batch jobs", err)
		}
		var l struct {
			Operations    []wireOperation `json:"operations"`
			NextPageToken string          `json:"nextPageToken"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return out, &runtime.Error{Class: runtime.ClassTransient, Message: "decoding batch list: " + err.Error(), Err: err}
		}
		for i := range l.Operations {
			out = append(out, *l.Operations[i].status())
		}
		if l.NextPageToken == "" {
			break
		}
		token = l.NextPageToken
	}
	return out, nil
}

// CleanupBatch deletes a job's input and results files; files already gone
// are not an error.
func (p *Provider) CleanupBatch(ctx context.Context, name string) error {
	op, err := p.getBatch(ctx, name)
	if err != nil {
		return err
	}
	var files []string
	if m := op.Metadata; m != nil && m.InputConfig != nil && m.InputConfig.FileName != "" {
		files = append(files, m.InputConfig.FileName)
	}
	if out := op.output(); out != nil && out.ResponsesFile != "" {
		files = append(files, out.ResponsesFile)
	}
	var errs []error
	for _, f := range files {
		if _, err := p.direct.rest(ctx, http.MethodDelete, f, nil, nil); err != nil {
			var ae genai.APIError
			if errors.As(err, &ae) && ae.Code == http.StatusNotFound {
				continue
			}
			errs = append(errs, classify(ctx, ctx, 0, "deleting "+f, err))
		}
	}
	return errors.Join(errs...)
}

// The wire shapes of Batch Mode (reference §3).

type wireOperation struct {
	Name     string      `json:"name"`
	Done     bool        `json:"done"`
	Metadata *wireBatch  `json:"metadata"`
	Response *wireOutput `json:"response"`
	Error    *wireStatus `json:"error"`
}

type wireBatch struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Model       string `json:"model"`
	State       string `json:"state"`
	CreateTime  string `json:"createTime"`
	InputConfig *struct {
		FileName string `json:"fileName"`
	} `json:"inputConfig"`
	Output     *wireOutput `json:"output"`
	BatchStats *struct {
		RequestCount           flexInt `json:"requestCount"`
		SuccessfulRequestCount flexInt `json:"successfulRequestCount"`
		FailedRequestCount     flexInt `json:"failedRequestCount"`
		PendingRequestCount    flexInt `json:"pendingRequestCount"`
	} `json:"batchStats"`
}

type wireOutput struct {
	ResponsesFile    string `json:"responsesFile"`
	InlinedResponses *struct {
		InlinedResponses []wireInlined `json:"inlinedResponses"`
	} `json:"inlinedResponses"`
}

type wireInlined struct {
	Response json.RawMessage   `json:"response"`
	Error    *wireStatus       `json:"error"`
	Metadata map[string]string `json:"metadata"`
}

// wireStatus is a google.rpc.Status: a gRPC code, or an HTTP code in some
// replies.
type wireStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

// flexInt reads int64 fields, which proto-JSON writes as strings.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

// output is the job's output, from metadata or the Operation's response.
func (op *wireOperation) output() *wireOutput {
	if op.Metadata != nil && op.Metadata.Output != nil {
		return op.Metadata.Output
	}
	return op.Response
}

func (op *wireOperation) status() *runtime.BatchStatus {
	st := &runtime.BatchStatus{Name: op.Name}
	if m := op.Metadata; m != nil {
		st.DisplayName, st.Model, st.State = m.DisplayName, strings.TrimPrefix(m.Model, "models/"), batchState(m.State)
		if t, err := time.Parse(time.RFC3339Nano, m.CreateTime); err == nil {
			st.Created = t
		}
		if s := m.BatchStats; s != nil {
			st.Total, st.Succeeded, st.Failed, st.Pending = int(s.RequestCount), int(s.SuccessfulRequestCount), int(s.FailedRequestCount), int(s.PendingRequestCount)
		}
		if m.Name != "" && st.Name == "" {
			st.Name = m.Name
		}
	}
	if st.State == "" {
		st.State = runtime.BatchPending
	}
	if op.Error != nil {
		st.Error = op.Error.Message
		if op.Done && !st.State.Done() {
			st.State = runtime.BatchFailed
		}
	}
	return st
}

// batchState maps the REST (BATCH_STATE_*) or SDK (JOB_STATE_*) state.
func batchState(s string) runtime.BatchState {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "BATCH_STATE_"), "JOB_STATE_")
	switch s {
	case "PENDING", "QUEUED", "UNSPECIFIED", "":
		return runtime.BatchPending
	case "RUNNING":
		return runtime.BatchRunning
	case "SUCCEEDED":
		return runtime.BatchSucceeded
	case "FAILED":
		return runtime.BatchFailed
	case "CANCELLED":
		return runtime.BatchCancelled
	case "EXPIRED":
		return runtime.BatchExpired
	}
	return runtime.BatchState(strings.ToLower(s))
}

// grpcHTTP maps google.rpc codes to the HTTP status the online API gives
// for them, so a failed request inside a job is classified like an online
// reply with that status.
var grpcHTTP = map[int]int{
	1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400,
	10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

func (s *wireStatus) classified() *runtime.Error {
	code := s.Code
	if h, ok := grpcHTTP[code]; ok {
		code = h
	}
	e := classifyAPI(genai.APIError{Code: code, Message: s.Message, Status: s.Status})
	if e.Class == runtime.ClassRateLimit {
		// A request the job could not run for quota: try it again (online,
		// or in a later job), not a wait on this job.
		e.Class = runtime.ClassTransient
	}
	return e
}

// rest sends one Batch or Files API call and returns the 2xx body; a
// non-2xx answer is a genai.APIError as the SDK builds it.
func (e *endpoint) rest(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	u := e.base.JoinPath(e.apiVersion, path)
	if q != nil {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{
		"X-Goog-Api-Key":    e.key,
		"User-Agent":        versionHeader,
		"X-Goog-Api-Client": versionHeader,
	}
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading reply: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, apiError(resp, b)
	}
	return b, nil
}

// download streams a file's bytes (a job's results file).
func (e *endpoint) download(ctx context.Context, file string) (io.ReadCloser, error) {
	u := e.base.JoinPath(e.apiVersion, file+":download")
	u.RawQuery = "alt=media"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{"X-Goog-Api-Key": e.key, "User-Agent": versionHeader, "X-Goog-Api-Client": versionHeader}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending request: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return nil, apiError(resp, b)
	}
	return resp.Body, nil
}
