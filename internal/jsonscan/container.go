package jsonscan

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
