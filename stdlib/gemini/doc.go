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
//
// # The generateContent hot path
//
// Generate does not call genai's Models.GenerateContent. The SDK turns a
// request's config into a map, runs it through its converters, encodes it,
// then decodes the whole reply into a map and converts that back into
// structs: about 330 µs of CPU and 480 allocations per call, more than half
// of a whole run's CPU in the S1 benchmark. Generate instead encodes a
// small struct (the response schema's JSON cached per SchemaID) into a
// pooled buffer, POSTs it with the same *http.Client the SDK was given,
// and decodes only the fields it reads; a non-2xx reply is turned into the
// genai.APIError the SDK would have returned, so classification is shared.
//
// genai remains the source of truth for the wire format and for everything
// else: it resolves the key, base URL and API version that the direct path
// reuses, manages caches, and supplies the types. TestWireEquivalence sends
// representative requests both ways and requires the server to see the
// same path, headers and body; an SDK upgrade that changes what it sends
// fails that test rather than silently drifting from it.
package gemini
