package gemini

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/runtime"
)

// classify turns an SDK error into what the runtime acts on. ctx is the
// caller's context, attemptCtx the one bounded by the per-attempt timeout;
// op names the call for the caller-cancelled case.
func classify(ctx, attemptCtx context.Context, timeout time.Duration, op string, err error) error {
	// The caller gave up: not a provider failure, so not classified.
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	// genai returns APIError by value; the pointer form never matches.
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		return classifyAPI(apiErr)
	}
	if errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return &runtime.Error{Class: runtime.ClassTransient, Message: "timeout after " + timeout.String(), Err: err}
	}
	// Resets, EOFs, truncated or undecodable bodies: the network, not the
	// request, so the same request may well succeed next time.
	return &runtime.Error{Class: runtime.ClassTransient, Message: shortMessage(err.Error()), Err: err, Unreachable: unreachable(err)}
}

// unreachable reports an error from before the request left: the
// connection could not be made (refused, no route, no such host). It says
// the endpoint is down, not that anything is wrong with the request.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// classifyAPI maps a non-2xx reply.
func classifyAPI(e genai.APIError) *runtime.Error {
	d := parseDetails(e.Details)
	out := &runtime.Error{Status: e.Code, Message: shortMessage(e.Message), Err: e}
	if out.Message == "" {
		out.Message = e.Status
	}
	switch {
	case e.Code == http.StatusTooManyRequests:
		out.Class = runtime.ClassRateLimit
		out.Quota = d.quota
		out.RetryDelay = d.retryDelay
		if out.RetryDelay == 0 {
			// Last resort only: the structured RetryInfo is authoritative.
			out.RetryDelay = retryInMessage(e.Message)
		}
	case cacheGone(e, d):
		// The runtime recreates the cache and tries again.
		out.Class = runtime.ClassTransient
		out.CacheGone = true
	case e.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "cached content is too small"):
		out.Class = runtime.ClassFatal
		out.TooSmall = true
	case e.Code == http.StatusRequestTimeout || e.Code >= 500:
		out.Class = runtime.ClassTransient
	default:
		// 400 bad request or schema, 401/403 key, 404 model: the same
		// request fails the same way every time.
		out.Class = runtime.ClassFatal
	}
	return out
}

// cacheGone reports a request naming a cachedContents entry that expired or
// never existed. The structured reason is preferred; the real API has been
// seen to send only a 403/404 whose text names the cached content.
func cacheGone(e genai.APIError, d details) bool {
	if d.reason == "CACHED_CONTENT_NOT_FOUND" {
		return true
	}
	if e.Code != http.StatusForbidden && e.Code != http.StatusNotFound {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "cachedcontent") || strings.Contains(m, "cached content")
}

// shortMessage keeps an error one readable line: an HTML error page (a
// proxy's 502) or the SDK's echo of a broken body would otherwise fill the
// journal. The full text stays reachable through Err.
func shortMessage(m string) string {
	const max = 300
	m = strings.TrimSpace(m)
	if i := strings.IndexByte(m, '\n'); i >= 0 {
		m = strings.TrimSpace(m[:i])
	}
	if len(m) > max {
		m = m[:max] + "…"
	}
	return m
}
