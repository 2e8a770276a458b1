// Package quota paces calls to each model so a run uses its quota fully
// without tripping it.
//
// A Limiter keeps, per model, a requests-per-window bucket, an input-tokens
// per-window bucket, a per-day counter and a concurrency cap, and turns the
// 429s the server sends back into pauses, learned limits and smaller caps.
// Models are independent: each has its own mutex, and a 429 on one never
// delays another.
//
// # Pacing
//
// A server enforces "at most L per window W" as a fixed window, a sliding
// window or a token bucket (GCRA); which one is not documented. A client
// that sends evenly at slightly less than L/W, and never in bursts, stays
// inside all three. So each bucket refills at Headroom·L/W and holds just
// under 1 + (1−Headroom)·L: any window of length W then sees at most L. The
// small capacity only makes up for timer lateness while requests are
// queued; credit is never carried across an idle spell or a pause, because
// a burst after either is what a sliding window or a GCRA server rejects.
//
// Tokens are charged at Acquire from the caller's estimate, scaled by a
// running ratio of counted to estimated tokens, and corrected at Done from
// the count the server reported, so a biased estimator stops mattering
// after a few replies.
//
// # 429s
//
// A 429 naming per-minute quotas pauses the model for the server's
// retryDelay and lowers the learned fraction of that axis's limit a little
// (once per round trip, not once per rejected call); the fraction creeps
// back up while no 429s come, so a hidden limit lower than the configured
// one is found and tracked from just below. A per-day 429 stops the model
// until the day resets, whatever retryDelay says. A 429 without details is
// a capacity signal: it halves the concurrency cap, which then grows back
// by one per cap's worth of completions.
//
// # Cost
//
// A model with no limits takes a lock-free path: Acquire is a map load and
// two atomic adds, and allocates nothing.
package quota
