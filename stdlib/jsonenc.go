package stdlib

// A JSON encoder for the value shapes records hold. encoding/json reflects
// over every map[string]any and boxes its keys through reflect.Value, which
// made the sink the largest allocator on the S1 hot path (about a fifth of all
// allocations). This one appends straight into a reused buffer and produces
// the same bytes as an encoding/json Encoder with SetEscapeHTML(false):
// sorted map keys, the same string escaping (invalid UTF-8 becomes U+FFFD,
// U+2028 and U+2029 are escaped) and the same float formatting. Types it does
// not know go to encoding/json. A differential fuzz test holds it to that.

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// jsonAppender appends JSON to buf. It is not safe for concurrent use; a sink
// owns one.
type jsonAppender struct {
	buf  []byte
	keys []string // sort scratch, used as a stack by nested maps

	fb  bytes.Buffer // fallback output of encoding/json
	enc *json.Encoder
}

// value appends v as compact JSON.
func (a *jsonAppender) value(v any) error {
	switch x := v.(type) {
	case nil:
		a.buf = append(a.buf, "null"...)
	case string:
		a.buf = jsonscan.AppendString(a.buf, x)
	case map[string]any:
		return a.object(x)
	case []any:
		if x == nil {
			a.buf = append(a.buf, "null"...)
			return nil
		}
		a.buf = append(a.buf, '[')
		for i, e := range x {
			if i > 0 {
				a.buf = append(a.buf, ',')
			}
			if err := a.value(e); err != nil {
				return err
			}
		}
		a.buf = append(a.buf, ']')
	case []string:
		if x == nil {
			a.buf = append(a.buf, "null"...)
			return nil
		}
		a.buf = append(a.buf, '[')
		for i, e := range x {
			if i > 0 {
				a.buf = append(a.buf, ',')
			}
			a.buf = jsonscan.AppendString(a.buf, e)
		}
		a.buf = append(a.buf, ']')
	case bool:
		a.buf = strconv.AppendBool(a.buf, x)
	case int:
		a.buf = strconv.AppendInt(a.buf, int64(x), 10)
	case int64:
		a.buf = strconv.AppendInt(a.buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return a.fallback(v) // encoding/json's UnsupportedValueError
		}
		a.buf = appendJSONFloat(a.buf, x)
	case json.Number:
		if x == "" {
			a.buf = append(a.buf, '0') // as encoding/json writes an empty Number
			return nil
		}
		if !isJSONNumber(string(x)) {
			return a.fallback(v) // let encoding/json word the error
		}
		a.buf = append(a.buf, x...)
	case json.RawMessage:
		if x == nil {
			a.buf = append(a.buf, "null"...)
			return nil
		}
		return a.fallback(v) // compacted and validated as encoding/json does
	default:
		return a.fallback(v)
	}
	return nil
}

// object writes a map with its keys sorted. The keys are pushed on a.keys
// and popped on return, so nested maps share one scratch slice.
func (a *jsonAppender) object(m map[string]any) error {
	if m == nil {
		a.buf = append(a.buf, "null"...)
		return nil
	}
	base := len(a.keys)
	for k := range m {
		a.keys = append(a.keys, k)
	}
	keys := a.keys[base:]
	slices.Sort(keys)
	// keys stays valid while nested maps push theirs: they append after
	// it, and a grown a.keys leaves this backing array as it is.
	_, err := a.members(m, keys)
	clear(a.keys[base:]) // drop the strings so the scratch does not pin them
	a.keys = a.keys[:base]
	return err
}

// members writes m as an object whose keys are keys, in that order. It
// reports false, having written part of it, when a key is not in m.
func (a *jsonAppender) members(m map[string]any, keys []string) (bool, error) {
	a.buf = append(a.buf, '{')
	for i, k := range keys {
		v, ok := m[k]
		if !ok {
			return false, nil
		}
		if i > 0 {
			a.buf = append(a.buf, ',')
		}
		a.buf = jsonscan.AppendString(a.buf, k)
		a.buf = append(a.buf, ':')
		if err := a.value(v); err != nil {
			return true, err
		}
	}
	a.buf = append(a.buf, '}')
	return true, nil
}

// objectLike writes m as object does, first trying last, the sorted keys
// of the map this call site wrote before: the items of a source mostly
// share their keys, and then neither ranging over the map nor sorting is
// needed. When m's keys are not exactly last's it sorts m's keys into last
// and writes m in that order.
func (a *jsonAppender) objectLike(m map[string]any, last *[]string) error {
	keys := *last
	if m != nil && len(keys) > 0 && len(keys) == len(m) {
		start := len(a.buf)
		same, err := a.members(m, keys)
		if same {
			return err
		}
		a.buf = a.buf[:start] // another set of keys: start again the long way
	}
	if m == nil {
		a.buf = append(a.buf, "null"...)
		return nil
	}
	keys = keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	*last = keys
	_, err := a.members(m, keys)
	return err
}

// fallback encodes v with encoding/json, HTML escaping off.
func (a *jsonAppender) fallback(v any) error {
	if a.enc == nil {
		a.enc = json.NewEncoder(&a.fb)
		a.enc.SetEscapeHTML(false)
	}
	a.fb.Reset()
	if err := a.enc.Encode(v); err != nil {
		return err
	}
	a.buf = append(a.buf, bytes.TrimSuffix(a.fb.Bytes(), []byte{'\n'})...)
	return nil
}

// appendJSONFloat formats f as encoding/json does: the shortest repr, in
// exponent form only for very small or large magnitudes, with a two-digit
// negative exponent trimmed (1e-07 → 1e-7). f must be finite.
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
