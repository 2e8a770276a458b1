package jsonscan

import "strings"

// Open, Key and Next walk an object or array member by member, for callers
// that handle some members themselves:
//
//	more, ok := s.Open('{')
//	for ok && more {
//		k, ok := s.Key()
//		... read the value ...
//		more, ok = s.Next('}')
//	}
//
// They do not count nesting: a caller's own structure has a fixed depth, and
// Value and Skip bound what they recurse into.

// Open consumes the opening bracket open ('{' or '['). more is false when the
// container is empty, its closing bracket consumed too.
func (s *Scanner) Open(open byte) (more, ok bool) {
	if s.Peek() != open {
		return false, s.fail(s.i, "looking for a value")
	}
	s.i++
	if s.Peek() == open+2 { // '}' and ']' follow '{' and '[' by two
		s.i++
		return false, true
	}
	return true, true
}

// Key reads an object key and the colon after it.
func (s *Scanner) Key() (string, bool) {
	if s.Peek() != '"' {
		return "", s.fail(s.i, "looking for an object key")
	}
	k, ok := s.str()
	if !ok {
		return "", false
	}
	if s.Peek() != ':' {
		return "", s.fail(s.i, "after an object key")
	}
	s.i++
	return k, true
}

// Next consumes the comma before another member (more) or the closing
// bracket close.
func (s *Scanner) Next(close byte) (more, ok bool) {
	switch s.Peek() {
	case ',':
		s.i++
		return true, true
	case close:
		s.i++
		return false, true
	}
	if close == '}' {
		return false, s.fail(s.i, "after an object value")
	}
	return false, s.fail(s.i, "after an array element")
}

// Members walks an object, calling member with each key once the key and
// its colon are read; member reads the value. known are the keys the caller
// decodes itself: each must be spelt exactly and appear once, or Members
// gives up (false). encoding/json matches keys without case and lets a
// repeat overwrite; a fast path that refuses both can leave the deciding to
// encoding/json instead of copying those rules.
func (s *Scanner) Members(member func(key string) bool, known ...string) bool {
	more, ok := s.Open('{')
	var seen uint64
	for ok && more {
		k, ok := s.Key()
		if !ok {
			return false
		}
		for j, name := range known {
			if strings.EqualFold(k, name) {
				if k != name || seen&(1<<j) != 0 {
					return false
				}
				seen |= 1 << j
			}
		}
		if !member(k) {
			return false
		}
		if more, ok = s.Next('}'); !ok {
			return false
		}
	}
	return ok
}

// Elements walks an array, calling elem to read each element.
func (s *Scanner) Elements(elem func() bool) bool {
	more, ok := s.Open('[')
	for ok && more {
		if !elem() {
			return false
		}
		more, ok = s.Next(']')
	}
	return ok
}
