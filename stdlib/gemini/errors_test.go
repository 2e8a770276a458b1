package gemini

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

const body429 = `{"error": {
  "code": 429,
  "message": "You exceeded your current quota, please check your plan and billing details. Please retry in 16.2s.",
  "status": "RESOURCE_EXHAUSTED",
  "details": [
    {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
     "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                     "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                     "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                     "quotaValue": "10"}]},
    {"@type": "type.googleapis.com/google.rpc.Help",
     "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}
  ]}}`

const body429Multi = `{"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
  "details": [
    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
      {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
       "quotaDimensions": {"location": "global", "model": "gemini-2.5-pro"}, "quotaValue": "50"},
      {"quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier2",
       "quotaDimensions": {"location": "global", "model": "gemini-2.5-pro"}, "quotaValue": "3000000"},
      {"quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier",
       "quotaDimensions": {"model": "gemini-2.5-flash"}}]},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "45.837906927s"}]}}`

const body429MessageOnly = `{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
  "message": "Quota exceeded for metric: generate_content_free_tier_requests. Please retry in 36.429760048s."}}`

const body429Bare = `{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}`

const htmlBody = "<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body></html>"

// want is the part of a *runtime.Error a case pins down.
type want struct {
	class      runtime.Class
	status     int
	retryDelay time.Duration
	quota      []runtime.QuotaViolation
	cacheGone  bool
	tooSmall   bool
	msg        string // substring of Error()
}

func TestGenerateErrorClassification(t *testing.T) {
	cases := []struct {
		name    string
		h       http.HandlerFunc
		timeout time.Duration
		want    want
	}{
		{"429 with details", reply(429, body429), 0, want{
			class: runtime.ClassRateLimit, status: 429, retryDelay: 17 * time.Second,
			quota: []runtime.QuotaViolation{{Axis: runtime.AxisRPM, Model: "gemini-2.5-flash",
				QuotaID: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", Value: 10}},
			msg: "exceeded your current quota"}},
		{"429 several violations", reply(429, body429Multi), 0, want{
			class: runtime.ClassRateLimit, status: 429, retryDelay: 45*time.Second + 837906927*time.Nanosecond,
			quota: []runtime.QuotaViolation{
				{Axis: runtime.AxisRPD, Model: "gemini-2.5-pro", QuotaID: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", Value: 50},
				{Axis: runtime.AxisTPM, Model: "gemini-2.5-pro", QuotaID: "GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier2", Value: 3000000},
				{Axis: runtime.AxisTPM, Model: "gemini-2.5-flash", QuotaID: "GenerateContentInputTokensPerModelPerMinute-FreeTier"},
			}}},
		{"429 delay only in message", reply(429, body429MessageOnly), 0, want{
			class: runtime.ClassRateLimit, status: 429, retryDelay: 36429760048 * time.Nanosecond}},
		{"bare 429", reply(429, body429Bare), 0, want{class: runtime.ClassRateLimit, status: 429, msg: "Resource has been exhausted"}},
		{"400 bad schema", reply(400, `{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\"","status":"INVALID_ARGUMENT"}}`), 0,
			want{class: runtime.ClassFatal, status: 400, msg: "Invalid JSON payload"}},
		{"400 bad key", reply(400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
		  "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`), 0,
			want{class: runtime.ClassFatal, status: 400, msg: "API key not valid"}},
		{"401", reply(401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`), 0,
			want{class: runtime.ClassFatal, status: 401}},
		{"403", reply(403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`), 0,
			want{class: runtime.ClassFatal, status: 403}},
		{"404 model", reply(404, `{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}`), 0,
			want{class: runtime.ClassFatal, status: 404, msg: "gemini-9"}},
		{"408", reply(408, `{"error":{"code":408,"message":"Request timed out.","status":"DEADLINE_EXCEEDED"}}`), 0,
			want{class: runtime.ClassTransient, status: 408}},
		{"500 json", reply(500, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`), 0,
			want{class: runtime.ClassTransient, status: 500, msg: "internal error"}},
		{"502 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, htmlBody)
		}, 0, want{class: runtime.ClassTransient, status: 502, msg: "<title>502 Bad Gateway</title>"}},
		{"500 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html><body>Internal Server Error</body></html>")
		}, 0, want{class: runtime.ClassTransient, status: 500, msg: "<!DOCTYPE html>"}},
		{"503 overloaded", reply(503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`), 0,
			want{class: runtime.ClassTransient, status: 503, msg: "overloaded"}},
		{"504", reply(504, `{"error":{"code":504,"message":"Deadline exceeded.","status":"DEADLINE_EXCEEDED"}}`), 0,
			want{class: runtime.ClassTransient, status: 504}},
		{"cache not found by reason", reply(400, `{"error":{"code":400,"message":"Cache not available.","status":"FAILED_PRECONDITION",
		  "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CACHED_CONTENT_NOT_FOUND","domain":"generativelanguage.googleapis.com"}]}}`), 0,
			want{class: runtime.ClassTransient, status: 400, cacheGone: true}},
		{"cache gone by 403 text", reply(403, `{"error":{"code":403,"message":"CachedContent not found (or permission denied)","status":"PERMISSION_DENIED"}}`), 0,
			want{class: runtime.ClassTransient, status: 403, cacheGone: true}},
		{"blocked prompt", reply(200, `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":9}}`), 0,
			want{class: runtime.ClassFatal, msg: "blocked: PROHIBITED_CONTENT"}},
		{"safety finish", reply(200, `{"candidates":[{"finishReason":"SAFETY","index":0}]}`), 0,
			want{class: runtime.ClassFatal, msg: "blocked: SAFETY"}},
		{"no candidates", reply(200, `{"usageMetadata":{"promptTokenCount":9}}`), 0,
			want{class: runtime.ClassTransient, msg: "no candidates"}},
		{"truncated json", reply(200, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hel`), 0,
			want{class: runtime.ClassTransient}},
		{"body cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "4096")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"candidates":[`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}, 0, want{class: runtime.ClassTransient}},
		{"connection reset", resetConn, 0, want{class: runtime.ClassTransient}},
		{"hang past attempt timeout", hang, 100 * time.Millisecond,
			want{class: runtime.ClassTransient, msg: "timeout after 100ms"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.h)
			_, err := f.provider(t).Generate(context.Background(),
				&runtime.Request{Item: "x", Model: "gemini-2.5-flash", Prompt: "hi", Timeout: c.timeout})
			checkErr(t, err, c.want)
		})
	}
}

func checkErr(t *testing.T, err error, w want) {
	t.Helper()
	var re *runtime.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want *runtime.Error", err, err)
	}
	if re.Class != w.class || re.Status != w.status || re.RetryDelay != w.retryDelay ||
		re.CacheGone != w.cacheGone || re.TooSmall != w.tooSmall {
		t.Errorf("got class=%v status=%d delay=%v cacheGone=%v tooSmall=%v, want class=%v status=%d delay=%v cacheGone=%v tooSmall=%v",
			re.Class, re.Status, re.RetryDelay, re.CacheGone, re.TooSmall,
			w.class, w.status, w.retryDelay, w.cacheGone, w.tooSmall)
	}
	if !reflect.DeepEqual(re.Quota, w.quota) {
		t.Errorf("quota = %+v, want %+v", re.Quota, w.quota)
	}
	if !strings.Contains(err.Error(), w.msg) {
		t.Errorf("error %q does not mention %q", err.Error(), w.msg)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err.Error())
	}
	if runtime.ClassOf(err) != w.class {
		t.Errorf("ClassOf = %v, want %v", runtime.ClassOf(err), w.class)
	}
}

// resetConn answers with a TCP RST instead of a reply.
func resetConn(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
