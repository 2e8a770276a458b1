package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiErr is a Gemini error reply: {"error":{code,message,status,details}}.
type apiErr struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`

	kind string // ground-truth label for the log and stats, e.g. "quota", "fault_503"
}

func (e *apiErr) body() []byte {
	b, err := json.Marshal(struct {
		Error *apiErr `json:"error"`
	}{e})
	if err != nil { // only plain data goes in: a failure is a bug here
		panic(err)
	}
	return b
}

func writeAPIErr(w http.ResponseWriter, e *apiErr) {
	b := e.body()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Code)
	w.Write(b) //nolint:errcheck // the client may be gone; nothing to do
}

// statusNames maps HTTP codes to google.rpc.Code names as Gemini reports them.
var statusNames = map[int]string{
	400: "INVALID_ARGUMENT",
	401: "UNAUTHENTICATED",
	403: "PERMISSION_DENIED",
	404: "NOT_FOUND",
	409: "ABORTED",
	429: "RESOURCE_EXHAUSTED",
	499: "CANCELLED",
	500: "INTERNAL",
	501: "NOT_IMPLEMENTED",
	503: "UNAVAILABLE",
	504: "DEADLINE_EXCEEDED",
}

// defaultMessages are the texts the real API uses for errors without a
// more specific message.
var defaultMessages = map[int]string{
	400: "Request contains an invalid argument.",
	403: "The caller does not have permission",
	404: "Requested entity was not found.",
	429: "Resource has been exhausted (e.g. check quota).",
	500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
	503: "The model is overloaded. Please try again later.",
	504: "The request timed out. Please try again.",
}

func newAPIErr(code int, msg, kind string) *apiErr {
	if msg == "" {
		msg = defaultMessages[code]
	}
	status, ok := statusNames[code]
	if !ok {
		status = "UNKNOWN"
	}
	return &apiErr{Code: code, Message: msg, Status: status, kind: kind}
}

func errNotFound(path string) *apiErr {
	return newAPIErr(404, "Method not found: "+path, "not_found")
}

func errBadRequest(msg string) *apiErr { return newAPIErr(400, msg, "invalid_argument") }

// errCacheNotFound is what a missing or expired cache gets. The ErrorInfo
// reason lets clients recognise it without reading the message.
func errCacheNotFound() *apiErr {
	e := newAPIErr(403, "CachedContent not found (or permission denied)", "cache_not_found")
	e.Details = []map[string]any{{
		"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
		"reason": "CACHED_CONTENT_NOT_FOUND",
		"domain": "googleapis.com",
	}}
	return e
}
