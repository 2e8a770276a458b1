package jsonscan

// Number reads a number in JSON's grammar and returns its text, a slice of
// the scanned text.
func (s *Scanner) Number() (string, bool) {
	s.SkipSpace()
	return s.number()
}

// number reads the number at s.i.
func (s *Scanner) number() (string, bool) {
	str, start, i := s.s, s.i, s.i
	if i < len(str) && str[i] == '-' {
		i++
	}
	switch {
	case i < len(str) && str[i] == '0':
		i++
	case i < len(str) && '1' <= str[i] && str[i] <= '9':
		i = digits(str, i)
	default:
		return "", s.fail(i, "in numeric literal")
	}
	if i < len(str) && str[i] == '.' {
		i++
		j := digits(str, i)
		if j == i {
			return "", s.fail(i, "after decimal point in numeric literal")
		}
		i = j
	}
	if i < len(str) && (str[i] == 'e' || str[i] == 'E') {
		i++
		if i < len(str) && (str[i] == '+' || str[i] == '-') {
			i++
		}
		j := digits(str, i)
		if j == i {
			return "", s.fail(i, "in exponent of numeric literal")
		}
		i = j
	}
	s.i = i
	return str[start:i], true
}

// digits returns the offset after the decimal digits at s[i:].
func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// SmallInt converts the text of an integer of at most 18 digits, which
// always fits an int64, without strconv's checks. It reports false for a
// fraction, an exponent or a longer integer, which need strconv.
func SmallInt(text string) (int, bool) {
	if len(text) == 0 || len(text) >= 19 {
		return 0, false
	}
	neg := text[0] == '-'
	if neg {
		text = text[1:]
		if len(text) == 0 {
			return 0, false
		}
	}
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// Literal reads the word true, false or null.
func (s *Scanner) Literal(word string) bool {
	s.SkipSpace()
	return s.literal(word)
}

// literal reads word at s.i.
func (s *Scanner) literal(word string) bool {
	for k := 0; k < len(word); k++ {
		if s.i >= len(s.s) || s.s[s.i] != word[k] {
			return s.fail(s.i, "in literal "+word)
		}
		s.i++
	}
	return true
}
