package interp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ParseReply parses a raw reply against the schema. It is lenient where that
// is safe: one Markdown code fence, or prose around exactly one JSON object,
// is stripped (Reply.Recovered). An error means no usable JSON object was
// found; its message is written to be fed back to the model. Field problems
// are not errors: they are listed in Reply.Failed, the good fields in
// Reply.Passed. Integer fields decode to int and number fields to float64;
// absent optional fields are nil and fields the schema does not declare are
// dropped, so Value always has exactly the schema's fields.
func (s *Schema) ParseReply(text string) (*Reply, error) {
	return s.ParseReplyBoxing(text, nil)
}

// ParseReplyBoxing is ParseReply with the string values of a clean reply
// boxed by strs (a box.Strings' String, which boxes without an allocation
// each); nil boxes them plainly. The result is the same.
func (s *Schema) ParseReplyBoxing(text string, strs func(string) any) (*Reply, error) {
	if s != nil && s.Type != nil && len(s.Type.Fields) <= maxScanFields {
		// Fast path: a reply that is exactly one clean JSON object.
		var vals [maxScanFields]any
		var has, typed [maxScanFields]bool
		n := len(s.Type.Fields)
		if scanFields(text, s.Type.Fields, vals[:n], has[:n], typed[:n], strs) {
			if n > len(replyBlock{}.passed) {
				return s.fill(&Reply{}, vals[:n], has[:n], typed[:n]), nil
			}
			b := &replyBlock{}
			b.r.Passed = b.passed[:0:n]
			return s.fill(&b.r, vals[:n], has[:n], typed[:n]), nil
		}
	}
	return s.parseReplySlow(text)
}

// parseReplySlow is ParseReply through encoding/json: it recovers JSON from
// fences and prose and words every error.
func (s *Schema) parseReplySlow(text string) (*Reply, error) {
	raw, recovered, err := extractJSON(text)
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the reply is %s, but a JSON object was expected", describeJSON(v))
	}
	r := &Reply{Recovered: recovered}
	if s == nil || s.Type == nil {
		r.Value = obj
		return r, nil
	}
	vals := make([]any, len(s.Type.Fields))
	has := make([]bool, len(s.Type.Fields))
	for i, f := range s.Type.Fields {
		vals[i], has[i] = obj[f.Name]
	}
	return s.fill(r, vals, has, nil), nil
}

// replyBlock holds a Reply and the backing of its Passed list, so a small
// schema's reply costs one allocation for both.
type replyBlock struct {
	r      Reply
	passed [8]string
}

// maxScanFields bounds the schemas the fast path serves, so its per-field
// scratch lives on the stack.
const maxScanFields = 32

// fill types the top-level fields (vals[i] is field i's decoded value, has[i]
// whether the reply had it, typed[i] (if typed is not nil) whether vals[i]
// is already converted) into r.Value, r.Passed and r.Failed.
func (s *Schema) fill(r *Reply, vals []any, has, typed []bool) *Reply {
	fields := s.Type.Fields
	out := make(map[string]any, len(fields))
	if cap(r.Passed) < len(fields) {
		r.Passed = make([]string, 0, len(fields))
	}
	for i, f := range fields {
		fv, present := vals[i], has[i]
		switch {
		case !present || fv == nil:
			out[f.Name] = nil
			if f.Optional {
				r.Passed = append(r.Passed, f.Name)
			} else if !present {
				r.Failed = append(r.Failed, FieldError{Field: f.Name, Message: "is missing"})
			} else {
				r.Failed = append(r.Failed, FieldError{Field: f.Name, Message: "must not be null"})
			}
		case typed != nil && typed[i]:
			out[f.Name] = fv
			r.Passed = append(r.Passed, f.Name)
		default:
			cv, ok := conformFast(f.Type, fv)
			if !ok {
				// Only a misfit pays for the words that describe it.
				var msg string
				if cv, msg = conform(f.Type, fv, ""); msg != "" {
					r.Failed = append(r.Failed, FieldError{Field: f.Name, Message: msg})
					out[f.Name] = fv
					continue
				}
			}
			out[f.Name] = cv
			r.Passed = append(r.Passed, f.Name)
		}
	}
	if len(r.Passed) == 0 {
		r.Passed = nil
	}
	r.Value = out
	return r
}

// extractJSON finds the JSON text in a reply: the whole reply, the inside
// of one code fence, or the one balanced {...} inside prose.
func extractJSON(text string) (string, bool, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return "", false, errors.New("the reply is empty; a JSON object was expected")
	}
	recovered := false
	if inner, ok := stripFence(t); ok {
		t, recovered = inner, true
		if t == "" {
			return "", false, errors.New("the reply is an empty code block; a JSON object was expected")
		}
	}
	if json.Valid([]byte(t)) {
		return t, recovered, nil
	}
	start := strings.IndexByte(t, '{')
	if start < 0 {
		if t[0] == '[' || t[0] == '"' {
			return t, recovered, nil // let the decoder describe it
		}
		return "", false, errors.New("the reply contains no JSON object")
	}
	end := balanced(t, start)
	if end < 0 {
		return "", false, errors.New("the reply is not valid JSON: it ends in the middle of an object (it may have been cut off)")
	}
	if start == 0 && strings.TrimSpace(t[end:]) == "" {
		return t, recovered, nil // the whole reply: let the decoder say what is wrong
	}
	if next := strings.IndexByte(t[end:], '{'); next >= 0 {
		if e2 := balanced(t, end+next); e2 > 0 && json.Valid([]byte(t[end+next:e2])) {
			return "", false, errors.New("the reply contains more than one JSON object; exactly one was expected")
		}
	}
	return t[start:end], true, nil
}

// stripFence removes one ``` fence (with an optional language tag).
func stripFence(t string) (string, bool) {
	if !strings.HasPrefix(t, "```") || !strings.HasSuffix(t, "```") || len(t) < 6 {
		return "", false
	}
	body := t[3 : len(t)-3]
	nl := strings.IndexByte(body, '\n')
	if nl < 0 {
		return "", false
	}
	if tag := strings.TrimSpace(body[:nl]); tag != "" && !isName(tag) {
		return "", false
	}
	return strings.TrimSpace(body[nl+1:]), true
}

// balanced returns the offset just past the bracket closing the one at
// start, skipping strings; -1 if the text ends first.
func balanced(t string, start int) int {
	depth := 0
	inStr := false
	for i := start; i < len(t); i++ {
		c := t[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// decodeJSON decodes one JSON value keeping numbers exact, and describes
// what is wrong in words a model can act on.
func decodeJSON(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, errors.New("the reply is not valid JSON: it ends in the middle of a value (it may have been cut off)")
		case errors.As(err, &se):
			return nil, fmt.Errorf("the reply is not valid JSON: %s, near %q", se.Error(), snippet(raw, int(se.Offset)))
		}
		return nil, fmt.Errorf("the reply is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the reply has text after the JSON value")
	}
	return v, nil
}

func snippet(s string, off int) string {
	lo, hi := max(0, off-15), min(len(s), off+5)
	return s[lo:hi]
}

// conform checks v against t and converts numbers; msg is "" when v fits.
// path names the part of the field being checked, for nested messages.
func conform(t *Type, v any, path string) (any, string) {
	where := ""
	if path != "" {
		where = path + " "
	}
	if v == nil {
		return nil, where + "must not be null"
	}
	switch t.Kind {
	case KindString:
		if s, ok := v.(string); ok {
			return s, ""
		}
		return nil, fmt.Sprintf("%smust be a string, but got %s", where, describeJSON(v))
	case KindEnum:
		s, ok := v.(string)
		if ok {
			for _, e := range t.Enum {
				if s == e {
					return s, ""
				}
			}
		}
		return nil, fmt.Sprintf("%smust be one of %s, but got %s", where, quoteList(t.Enum), describeJSON(v))
	case KindBool:
		if b, ok := v.(bool); ok {
			return b, ""
		}
		return nil, fmt.Sprintf("%smust be true or false, but got %s", where, describeJSON(v))
	case KindInt:
		switch n := v.(type) {
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return int(i), ""
			}
			// 30.0 is an integer written as a float; 3.5 is not.
			if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int(f), ""
			}
		case int: // numbers a source or a literal decoded already
			return n, ""
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int(n), ""
			}
		}
		return nil, fmt.Sprintf("%smust be an integer, but got %s", where, describeJSON(v))
	case KindFloat:
		switch n := v.(type) {
		case json.Number:
			if f, err := n.Float64(); err == nil {
				return f, ""
			}
		case int:
			return float64(n), ""
		case float64:
			return n, ""
		}
		return nil, fmt.Sprintf("%smust be a number, but got %s", where, describeJSON(v))
	case KindList:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Sprintf("%smust be a list, but got %s", where, describeJSON(v))
		}
		out := make([]any, len(l))
		for i, e := range l {
			cv, msg := conform(t.Elem, e, fmt.Sprintf("%sitem %d", prefix(path), i+1))
			if msg != "" {
				return nil, msg
			}
			out[i] = cv
		}
		return out, ""
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Sprintf("%smust be an object, but got %s", where, describeJSON(v))
	}
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		fv, present := m[f.Name]
		sub := fmt.Sprintf("%sfield %q", prefix(path), f.Name)
		if !present || fv == nil {
			if !f.Optional {
				if !present {
					return nil, sub + " is missing"
				}
				return nil, sub + " must not be null"
			}
			out[f.Name] = nil
			continue
		}
		cv, msg := conform(f.Type, fv, sub)
		if msg != "" {
			return nil, msg
		}
		out[f.Name] = cv
	}
	return out, ""
}

// conformFast is conform without the messages: it accepts and converts
// exactly what conform does, and allocates no words on the way.
func conformFast(t *Type, v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch t.Kind {
	case KindString:
		_, ok := v.(string)
		return v, ok // v itself: boxing the string again would allocate
	case KindEnum:
		if s, ok := v.(string); ok {
			for _, e := range t.Enum {
				if s == e {
					return v, true
				}
			}
		}
		return nil, false
	case KindBool:
		_, ok := v.(bool)
		return v, ok
	case KindInt, KindFloat:
		if n, ok := v.(json.Number); ok {
			return numberValue(t.Kind, n)
		}
		return nil, false
	case KindList:
		l, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]any, len(l))
		for i, e := range l {
			if out[i], ok = conformFast(t.Elem, e); !ok {
				return nil, false
			}
		}
		return out, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		fv, present := m[f.Name]
		if !present || fv == nil {
			if !f.Optional {
				return nil, false
			}
			out[f.Name] = nil
			continue
		}
		if out[f.Name], ok = conformFast(f.Type, fv); !ok {
			return nil, false
		}
	}
	return out, true
}

// numberValue converts n for an int (KindInt) or number field as conform
// does: 30.0 is an integer written as a float; 3.5 is not.
func numberValue(k TypeKind, n json.Number) (any, bool) {
	if k == KindFloat {
		f, err := n.Float64()
		return f, err == nil
	}
	if i, err := n.Int64(); err == nil {
		return int(i), true
	}
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int(f), true
	}
	return nil, false
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ", "
}

// describeJSON names a decoded JSON value for a message: its kind and, when
// short, the value itself.
func describeJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 40 {
			return "a long string"
		}
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case []any:
		return "a JSON array"
	case map[string]any:
		return "a JSON object"
	}
	var buf bytes.Buffer
	fmt.Fprint(&buf, v)
	return buf.String()
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
