package interp

import (
	"encoding/json"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// scanMaxDepth is far below encoding/json's limit; deeper replies take the
// slow path.
const scanMaxDepth = 64

// scanFields decodes text, which must be one JSON object and nothing else
// (white space aside), keeping only the members fields names: vals[i] and
// has[i] describe fields[i]. Other members are checked and dropped. A number
// for an int or number field is converted at once (typed[i]): boxing it as
// a json.Number first would cost an allocation.
//
// It is the fast path for the common reply that is exactly one clean JSON
// object: one pass with internal/jsonscan, strings without escapes and
// numbers sliced out of the reply. encoding/json needed two passes (json.Valid,
// then a Decoder) and a reflect walk. It gives up (false) on anything unusual:
// a syntax error, text after the value, invalid UTF-8, a \u surrogate escape,
// deep nesting. The caller then takes the encoding/json path, which accepts or
// rejects the text and words any error, so the scanner only has to agree with
// encoding/json on the inputs it accepts. strs, when not nil, boxes the
// string values (jsonscan.Scanner.Strings).
func scanFields(text string, fields []*Field, vals []any, has, typed []bool, strs func(string) any) bool {
	sc := jsonscan.New(text)
	sc.Strings = strs
	sc.MaxDepth = scanMaxDepth - 1 // the reply object is the first level
	more, ok := sc.Open('{')
	for ok && more {
		var k string
		if k, ok = sc.Key(); !ok {
			return false
		}
		j := -1
		for i, f := range fields {
			if f.Name == k {
				j = i
				break
			}
		}
		if j >= 0 && numberNext(&sc) && (fields[j].Type.Kind == KindInt || fields[j].Type.Kind == KindFloat) {
			text, ok := sc.Number()
			if !ok {
				return false
			}
			n := json.Number(text)
			if v, ok := numberValue(fields[j].Type.Kind, n); ok {
				vals[j], has[j], typed[j] = v, true, true
			} else {
				vals[j], has[j], typed[j] = n, true, false // conform words the misfit
			}
		} else {
			v, ok := sc.Value()
			if !ok {
				return false
			}
			if j >= 0 {
				vals[j], has[j], typed[j] = v, true, false
			}
		}
		more, ok = sc.Next('}')
	}
	return ok && sc.End()
}

// numberNext reports whether a number comes next.
func numberNext(sc *jsonscan.Scanner) bool {
	c := sc.Peek()
	return c == '-' || (c >= '0' && c <= '9')
}
