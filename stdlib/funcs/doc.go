// Package funcs holds llmpipe's built-in functions for expressions and
// templates: file, json, lines, truncate and tokens. Each carries its own
// documentation so that `llmpipe doc` can render reference pages from All.
//
// expr-lang's own built-ins (len, trim, join, split, upper, lower, …) are
// always available and are not repeated here.
package funcs

import "github.com/llmpipe/llmpipe/interp"

// All returns every built-in function, freshly allocated, in name order.
func All() []*interp.Func {
	return []*interp.Func{fileFunc(), jsonFunc(), linesFunc(), tokensFunc(), truncateFunc()}
}
