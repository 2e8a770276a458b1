// Package gemini is llmpipe's provider for the Gemini API. It wraps
// google.golang.org/genai (the only package in the module allowed to) and
// turns llmpipe requests into generateContent calls, replies into
// runtime.Response values, and every failure into a classified
// *runtime.Error so the runtime can decide between retrying, waiting for
// quota, escalating and giving up.
//
// The SDK's own retries and automatic continuation are switched off: the
// runtime retries itself (honouring the server's retryDelay, which the SDK
// ignores) and every call must cost exactly one request.
package gemini
