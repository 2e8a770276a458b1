// Package sim is a loopback simulator of the Gemini REST API, the test
// double that llmpipe's tests, benchmarks and offline demo (`llmpipe run
// --sim`) run against. It speaks enough of the surface that
// google.golang.org/genai works against it unchanged, so the real client
// code is what gets exercised.
//
// # Surface
//
// Under both /v1beta and /v1: models/{m}:generateContent,
// models/{m}:streamGenerateContent (SSE), models/{m}:countTokens and
// cachedContents create, get, list, patch (TTL) and delete; Batch Mode
// (models/{m}:batchGenerateContent, batches get, list, cancel and delete)
// and the Files API (resumable upload, get, list, delete, download). GET
// /stats returns the ground-truth counters as JSON. Anything else gets a
// Gemini 404 NOT_FOUND error body.
//
// # Batch Mode
//
// A job is PENDING for the first half of Config.BatchLatency and RUNNING
// for the second, then ends SUCCEEDED, or FAILED or EXPIRED with the
// probabilities Config.BatchFail and Config.BatchExpire (drawn from the
// seed and the job's creation number), without results. Its requests run
// when it ends, through the decision steps below minus quota and latency,
// so faults, scripts, poison and wrong answers apply; a fault that needs a
// connection (hang, reset, truncate) becomes a per-request error. Results
// go inline for inline input and to the file files/batch-<id> for file
// input; a failed request is {"code","message"} with a google.rpc code and
// no details. Job times come from Config.Clock (clock.Real unless a test
// passes its own). One goroutine ends jobs when due (so their lines reach
// the log without a client asking) and exits at Close; every read of a job
// also brings it up to date. Config.BatchEnqueuedTokens bounds the input
// tokens of a model's PENDING and RUNNING jobs: a create over it gets 429
// RESOURCE_EXHAUSTED. Create bodies and input files may use camelCase or
// snake_case field names, as proto-JSON allows.
//
// An inner request's key (metadata.key inline, key in a file) is what the
// client sends online as x-llmpipe-item: it names the item for scripts,
// poison, call counts and the log.
//
// # Replies
//
// Plain requests get text built from the prompt's words. Requests with
// generationConfig.responseSchema (OpenAPI subset, upper-case types) or
// responseJsonSchema (JSON Schema subset) get JSON that conforms to it,
// with values drawn from the prompt where the type allows: a "name" takes
// a run of Capitalized words, an "email" a token with '@', an int may take
// a number from the prompt, enums prefer a value the prompt mentions.
// Objects follow propertyOrdering, else alphabetical order for
// responseSchema (as Gemini does) and schema order for responseJsonSchema.
//
// Content and wrongness are a pure function of (seed, model, item, request
// content: contents, system instruction, schema), not of the body's bytes:
// the same request always gets the same reply, online or inside a batch
// job, and a retry whose prompt differs (feedback appended) draws afresh. Config.Invalid sets, per model,
// the rate of wrong answers of the kinds real models give (see InvalidKinds).
// Fault and latency draws are a function of (seed, item, model, call n) so a
// run is reproducible whatever the arrival order.
//
// Tokens are counted over all text in contents, systemInstruction and the
// cached content by a tokenizer shaped like a real one (tokens.go): about
// 4 characters a token for English, denser for punctuation and code, one
// token per CJK character; promptTokenCount includes the cached tokens, as
// the real API's does, and a reply using cached content reports
// cachedContentTokenCount.
//
// Thinking models (catalog.Model.Thinking) report thoughtsTokenCount: 64
// to 576 tokens plus a quarter of the prompt, drawn per request, capped by
// a positive generationConfig.thinkingConfig.thinkingBudget, none when the
// budget turns thinking off; a budget of 0 on a model that always thinks
// is a 400. maxOutputTokens caps thoughts and answer together: a reply cut
// by it ends with finishReason MAX_TOKENS (and no answer at all when the
// thoughts took every token). An explicit cache below the model's minimum
// (catalog.MinCacheTokens unless Config.MinCacheTokens is set) is a 400.
//
// # Order of decisions for a generate request
//
//  1. malformed request, unknown or expired cache, cache used with another
//     model or with systemInstruction, poisoned item: 400/403, immediately;
//  2. quota (RPM, TPM, RPD per model): 429 RESOURCE_EXHAUSTED, immediately;
//  3. the first matching script line, if any (its delay or the latency
//     model, then its text, error or fault);
//  4. a random fault (Config.Fail);
//  5. latency, then the generated reply (possibly a wrong one).
//
// A request that passes step 2 is "accepted": it counts toward the quota
// and toward Stats.Accepted even if a fault follows.
//
// # Quotas
//
// All per-minute limits use Config.Window as the minute; the day for RPD is
// Config.Day (default 1440 windows). Modes: "window" (fixed windows aligned
// to the server's start), "sliding" (exact sliding log: no interval of one
// window holds more than the limit) and "bucket" (GCRA at limit/window with
// a burst of Burst, default a 60th of the limit, so a fixed window may hold
// up to limit+burst). RPD is always a fixed day. The 429 body carries one
// QuotaFailure violation per exceeded axis and a RetryInfo whose retryDelay
// is the time until the request would be admitted; for RPD alone it is a
// short delay (36s scaled to the window), as the real API sends.
//
// # Context caches
//
// TTLs are scaled like the window: a cache's real lifetime is
// ttl × Window/60s, so ttl 60s with a 6s window lives 6s; expireTime in
// replies is that real instant. A missing or expired cache answers 403
// PERMISSION_DENIED "CachedContent not found (or permission denied)" with
// an ErrorInfo detail whose reason is CACHED_CONTENT_NOT_FOUND.
//
// Only requests with a schema can be wrong; plain-text replies never are.
// A request whose counted tokens exceed its model's TPM is never admitted
// in window and sliding modes (as with the real API, it can only fail).
//
// # Faults
//
// Config.Fail (--fail KIND=P) draws at most one fault per accepted request:
// 500, 503 ("The model is overloaded. Please try again later."), 504, hang
// (held until the client gives up, Close, or HangMax; then 504), reset (the
// connection is closed with RST and no reply), truncate (status line,
// headers and half the body, then close; for SSE the first half of the
// chunks) and bare429 (429 with no details). Config.Poison items always
// get 400 INVALID_ARGUMENT.
//
// # Ground truth
//
// GET /stats and Server.Stats report requests, statuses, admissions per
// fixed window per model, 429s per model and axis, successes per item,
// faults and wrong answers by kind, token totals and cache counts. With
// Config.LogFile every request is one JSON line (see LogEntry), written
// when the request finishes; the log is buffered but flushed in whole lines
// at least every 100 ms, so it can be tailed during a run, and it is
// complete once Close returns. Other kinds of line share the file through
// the logLine interface. Memory grows with the number
// of distinct items (call numbers and successes are kept per item).
//
// # Scripts
//
// A script (Config.Script or the JSONL file in Config.ScriptFile) answers
// chosen requests. Lines are tried in file order and the first match wins;
// a line matches when its item equals the item id of the request (or is
// "*"), its model is empty or equal, and its call is 0 or equal to the
// 1-based count of generate calls for that (item, model) pair (every
// call counts, even one refused for quota). Scripted replies skip random
// faults and wrong answers; scripted 429s are not counted as quota
// rejections.
//
// The item id of a request is its x-llmpipe-item header decoded with
// itemkey.Decode (the provider encodes it with itemkey.Encode, so ids with
// control characters or non-ASCII travel safely). An id too long for a
// header arrives as a hash key; script lines, --poison and the log use
// that same key for it.
//
// # Running it
//
// Start and Close for tests; Serve for a command that runs until
// interrupted. Config.RegisterFlags binds --addr, --seed, --latency,
// --latency-sigma, --latency-tail, --rpm, --tpm, --rpd, --limit-mode,
// --window, --day, --burst, --reject-counts, --cached-count-tpm,
// --invalid, --fail, --poison, --min-cache-tokens, --batch-latency,
// --batch-fail, --batch-expire, --batch-enqueued-tokens, --script, --log
// and --log-bodies under a prefix ("sim-" inside llmpipe). Only loopback
// addresses are accepted.
package sim
