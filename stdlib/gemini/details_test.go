package gemini

import (
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestQuotaAxis(t *testing.T) {
	cases := []struct {
		id, metric string
		want       runtime.QuotaAxis
	}{
		{"GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "", runtime.AxisRPM},
		{"GenerateRequestsPerMinutePerProjectPerModel", "", runtime.AxisRPM},
		{"GenerateContentInputTokensPerModelPerMinute-FreeTier", "", runtime.AxisTPM},
		{"GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier2", "", runtime.AxisTPM},
		{"GenerateRequestsPerDayPerProjectPerModel-FreeTier", "", runtime.AxisRPD},
		{"GenerateContentInputTokensPerModelPerDay-FreeTier", "", runtime.AxisRPD}, // a day limit waits for the day
		{"SomethingNew", "", runtime.AxisUnknown},
		{"", "generativelanguage.googleapis.com/generate_content_free_tier_requests", runtime.AxisRPM},
		{"", "generativelanguage.googleapis.com/generate_content_paid_tier_2_input_token_count", runtime.AxisTPM},
		{"", "", runtime.AxisUnknown},
	}
	for _, c := range cases {
		if got := quotaAxis(c.id, c.metric); got != c.want {
			t.Errorf("quotaAxis(%q, %q) = %q, want %q", c.id, c.metric, got, c.want)
		}
	}
}

func TestDurationValue(t *testing.T) {
	cases := []struct {
		in     any
		want   time.Duration
		wantOK bool
	}{
		{"17s", 17 * time.Second, true},
		{"45.837906927s", 45*time.Second + 837906927*time.Nanosecond, true},
		{"0.250s", 250 * time.Millisecond, true},
		{"0s", 0, true},
		{map[string]any{"seconds": "3", "nanos": float64(5e8)}, 3500 * time.Millisecond, true},
		{"soon", 0, false},
		{"-3s", 0, false},
		{float64(17), 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		got, ok := durationValue(c.in)
		if got != c.want || ok != c.wantOK {
			t.Errorf("durationValue(%#v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
}

func TestRetryInMessage(t *testing.T) {
	cases := []struct {
		msg  string
		want time.Duration
	}{
		{"Quota exceeded. Please retry in 36.429760048s.", 36429760048 * time.Nanosecond},
		{"please retry in 36.4s", 36400 * time.Millisecond},
		{"Please retry in 538.664038ms.", 538664038 * time.Nanosecond},
		{"Please retry in 2m.", 2 * time.Minute},
		{"You exceeded your current quota.", 0},
		{"retry in a while", 0},
	}
	for _, c := range cases {
		if got := retryInMessage(c.msg); got != c.want {
			t.Errorf("retryInMessage(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
}

func TestIntValue(t *testing.T) {
	cases := []struct {
		in     any
		want   int64
		wantOK bool
	}{
		{"3000000", 3000000, true},
		{float64(10), 10, true},
		{"ten", 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		got, ok := intValue(c.in)
		if got != c.want || ok != c.wantOK {
			t.Errorf("intValue(%#v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
}

// classifyAPI on APIError values as the SDK builds them, for shapes that are
// awkward to provoke over HTTP.
func TestClassifyAPI(t *testing.T) {
	cases := []struct {
		name string
		in   genai.APIError
		want want
	}{
		{"cache too small", genai.APIError{Code: 400, Status: "INVALID_ARGUMENT",
			Message: "Cached content is too small. total_token_count=312, min_total_token_count=1024"},
			want{class: runtime.ClassFatal, status: 400, tooSmall: true, msg: "min_total_token_count=1024"}},
		{"cache not found 404 text", genai.APIError{Code: 404, Status: "NOT_FOUND",
			Message: "Cached content cachedContents/abc not found"},
			want{class: runtime.ClassTransient, status: 404, cacheGone: true}},
		{"404 model is not cache gone", genai.APIError{Code: 404, Status: "NOT_FOUND",
			Message: "models/gemini-x is not found"},
			want{class: runtime.ClassFatal, status: 404}},
		{"429 malformed details", genai.APIError{Code: 429, Message: "quota", Details: []map[string]any{
			{"@type": typeRetryInfo, "retryDelay": 17},
			{"@type": typeQuotaFailure, "violations": "nope"},
		}}, want{class: runtime.ClassRateLimit, status: 429}},
		{"429 object retry delay", genai.APIError{Code: 429, Message: "quota", Details: []map[string]any{
			{"@type": typeRetryInfo, "retryDelay": map[string]any{"seconds": "20"}},
		}}, want{class: runtime.ClassRateLimit, status: 429, retryDelay: 20 * time.Second}},
		{"empty message uses status", genai.APIError{Code: 503, Status: "503 Service Unavailable"},
			want{class: runtime.ClassTransient, status: 503, msg: "503 Service Unavailable"}},
		{"unknown 4xx", genai.APIError{Code: 409, Message: "conflict"},
			want{class: runtime.ClassFatal, status: 409}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkErr(t, classifyAPI(c.in), c.want)
		})
	}
}

func TestShortMessage(t *testing.T) {
	long := make([]byte, 400)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct{ in, want string }{
		{"  plain  ", "plain"},
		{"first\nsecond", "first"},
		{string(long), string(long[:300]) + "…"},
	}
	for _, c := range cases {
		if got := shortMessage(c.in); got != c.want {
			t.Errorf("shortMessage(%.20q) = %.20q, want %.20q", c.in, got, c.want)
		}
	}
}
