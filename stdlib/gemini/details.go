package gemini

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Type URLs of the google.rpc detail messages Gemini sends.
const (
	typeRetryInfo    = "type.googleapis.com/google.rpc.RetryInfo"
	typeQuotaFailure = "type.googleapis.com/google.rpc.QuotaFailure"
	typeErrorInfo    = "type.googleapis.com/google.rpc.ErrorInfo"
)

// details is what llmpipe reads from an error's details list.
type details struct {
	retryDelay time.Duration
	quota      []runtime.QuotaViolation
	reason     string // ErrorInfo.reason
}

// parseDetails reads the google.rpc details. Malformed entries are skipped:
// the status code alone still classifies the error.
func parseDetails(list []map[string]any) details {
	var d details
	for _, m := range list {
		switch m["@type"] {
		case typeRetryInfo:
			if v, ok := durationValue(m["retryDelay"]); ok {
				d.retryDelay = v
			}
		case typeQuotaFailure:
			vs, _ := m["violations"].([]any)
			for _, v := range vs {
				if vm, ok := v.(map[string]any); ok {
					d.quota = append(d.quota, violation(vm))
				}
			}
		case typeErrorInfo:
			if r, ok := m["reason"].(string); ok && d.reason == "" {
				d.reason = r
			}
		}
	}
	return d
}

func violation(m map[string]any) runtime.QuotaViolation {
	id, _ := m["quotaId"].(string)
	metric, _ := m["quotaMetric"].(string)
	v := runtime.QuotaViolation{QuotaID: id, Axis: quotaAxis(id, metric)}
	if dims, ok := m["quotaDimensions"].(map[string]any); ok {
		v.Model, _ = dims["model"].(string)
	}
	v.Value, _ = intValue(m["quotaValue"])
	return v
}

// quotaAxis names the limit a violation is about from its quotaId, e.g.
// GenerateRequestsPerMinutePerProjectPerModel-FreeTier (rpm),
// GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier2 (tpm),
// GenerateRequestsPerDayPerProjectPerModel (rpd). A per-day limit is rpd
// whatever it counts, since only the day's end lifts it. The metric is a
// fallback for violations without an id.
func quotaAxis(id, metric string) runtime.QuotaAxis {
	if id == "" {
		return metricAxis(metric)
	}
	switch {
	case strings.Contains(id, "PerDay"):
		return runtime.AxisRPD
	case strings.Contains(id, "Token"):
		return runtime.AxisTPM
	case strings.Contains(id, "Requests") && strings.Contains(id, "PerMinute"):
		return runtime.AxisRPM
	}
	return runtime.AxisUnknown
}

// metricAxis reads quotaMetric, e.g.
// generativelanguage.googleapis.com/generate_content_free_tier_requests.
func metricAxis(metric string) runtime.QuotaAxis {
	switch {
	case strings.Contains(metric, "per_day"):
		return runtime.AxisRPD
	case strings.Contains(metric, "token"):
		return runtime.AxisTPM
	case strings.HasSuffix(metric, "_requests"):
		return runtime.AxisRPM
	}
	return runtime.AxisUnknown
}

// durationValue reads a protobuf Duration in its JSON form ("17s",
// "45.837906927s") or, defensively, its object form {seconds, nanos}.
func durationValue(v any) (time.Duration, bool) {
	switch x := v.(type) {
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil || d < 0 {
			return 0, false
		}
		return d, true
	case map[string]any:
		s, ok1 := intValue(x["seconds"])
		n, ok2 := intValue(x["nanos"])
		if !ok1 && !ok2 {
			return 0, false
		}
		return time.Duration(s)*time.Second + time.Duration(n), true
	}
	return 0, false
}

// intValue reads an int64 that protobuf JSON renders as a string ("10")
// or that a hand-written body may give as a number.
func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	case float64:
		return int64(x), true
	}
	return 0, false
}

var retryInRE = regexp.MustCompile(`(?i)retry in ([0-9]+(?:\.[0-9]+)?)(ms|s|m)\b`)

// retryInMessage reads "Please retry in 36.4s." from a 429's message.
func retryInMessage(msg string) time.Duration {
	m := retryInRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	d, err := time.ParseDuration(m[1] + strings.ToLower(m[2]))
	if err != nil {
		return 0
	}
	return d
}
