// Package tokens is the one token estimator of llmpipe: the runtime's
// quota and budget estimates, the tokens() function of expressions, the
// cache code's storage estimates, `llmpipe plan` and the simulator's
// stand-in for Gemini's tokenizer all count with it, so that a better
// estimate (for CJK text or code, say) lands everywhere at once.
//
// It lives under interp, the lowest layer that evaluates text, so that
// every layer above can import it; it imports only the standard library.
//
// The estimate is about four characters (runes, not bytes, so that
// non-Latin text is not overestimated) per token, rounded up. The quota
// pacer corrects it from the counts the server reports, so it needs to be
// cheap and steady more than exact.
package tokens

import "unicode/utf8"

// charsPerToken is how many characters make one token, on average, in
// English prose.
const charsPerToken = 4

// Estimate estimates the tokens of texts taken together (one request's
// system instruction and prompt, say). It is safe for concurrent use and
// does not allocate.
func Estimate(texts ...string) int {
	var c Counter
	for _, s := range texts {
		c.Add(s)
	}
	return c.Tokens()
}

// Counter sums an estimate over texts that arrive one at a time (the parts
// of a request). The zero value is an empty count; a Counter is not safe
// for concurrent use.
type Counter struct {
	chars int
}

// Add counts s.
func (c *Counter) Add(s string) { c.chars += utf8.RuneCountInString(s) }

// Tokens is the estimate for everything added so far.
func (c *Counter) Tokens() int { return (c.chars + charsPerToken - 1) / charsPerToken }
