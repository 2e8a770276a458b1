package jsonscan

import "encoding/json"

// Value decodes any value as encoding/json decodes into an any: objects to
// map[string]any (a repeated key keeps its last value), arrays to []any,
// numbers through Numbers (json.Number if nil).
func (s *Scanner) Value() (any, bool) {
	switch c := s.Peek(); {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		str, ok := s.str()
		if s.Strings != nil && ok {
			return s.Strings(str), true
		}
		return str, ok
	case c == '-' || ('0' <= c && c <= '9'):
		text, ok := s.number()
		if !ok {
			return nil, false
		}
		if s.Numbers != nil {
			return s.Numbers(text), true
		}
		return json.Number(text), true
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	}
	return nil, s.fail(s.i, "looking for a value")
}

func (s *Scanner) object() (any, bool) {
	if !s.enter() {
		return nil, false
	}
	more, _ := s.Open('{')
	m := make(map[string]any)
	for more {
		k, ok := s.Key()
		if !ok {
			return nil, false
		}
		v, ok := s.Value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if more, ok = s.Next('}'); !ok {
			return nil, false
		}
	}
	s.depth--
	return m, true
}

func (s *Scanner) array() (any, bool) {
	if !s.enter() {
		return nil, false
	}
	more, _ := s.Open('[')
	a := []any{}
	for more {
		v, ok := s.Value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if more, ok = s.Next(']'); !ok {
			return nil, false
		}
	}
	s.depth--
	return a, true
}

// enter counts one more level of nesting at the bracket about to be read.
func (s *Scanner) enter() bool {
	limit := s.MaxDepth
	if limit == 0 {
		limit = DefaultMaxDepth
	}
	if s.depth++; s.depth > limit {
		return s.fail(s.i, TooDeep)
	}
	return true
}

// Skip checks and passes over one value of any kind.
func (s *Scanner) Skip() bool {
	switch c := s.Peek(); {
	case c == '{' || c == '[':
		if !s.enter() {
			return false
		}
		more, _ := s.Open(c)
		for more {
			if c == '{' {
				if _, ok := s.Key(); !ok {
					return false
				}
			}
			if !s.Skip() {
				return false
			}
			var ok bool
			if more, ok = s.Next(c + 2); !ok {
				return false
			}
		}
		s.depth--
		return true
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || ('0' <= c && c <= '9'):
		_, ok := s.number()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail(s.i, "looking for a value")
}

// Raw passes over one value and returns its text.
func (s *Scanner) Raw() (string, bool) {
	s.SkipSpace()
	start := s.i
	if !s.Skip() {
		return "", false
	}
	return s.s[start:s.i], true
}
