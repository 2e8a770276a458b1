package sim

import (
	"unicode"
	"unicode/utf8"
)

// The simulator's tokenizer stands in for Gemini's: not the same
// vocabulary, but the same shape, so that a client estimating tokens
// from bytes or runes is caught out where a real model would catch it:
//
//   - a run of ASCII letters and digits costs one token per 4 bytes
//     (rounded up), so English prose is about 4 characters a token;
//   - a run of ASCII punctuation costs one token per 2 bytes: JSON and
//     code are denser in tokens than prose;
//   - whitespace is free (it joins the next token);
//   - each CJK character (Han, kana, Hangul, full-width forms) is one
//     token, as in real vocabularies;
//   - other letters (accented Latin, Cyrillic, Greek, …) join the letter
//     run at their UTF-8 length, so they cost about twice what ASCII does;
//   - any other rune (emoji, symbols) costs one token per 2 UTF-8 bytes.

// textTokens counts the tokens of s.
func textTokens(s string) int {
	n, _ := tokensUpTo(s, -1)
	return n
}

// tokensUpTo counts the tokens of s, stopping before the token that would
// take the count past limit (limit < 0: no limit). It returns the count
// and the byte length of the prefix those tokens cover.
func tokensUpTo(s string, limit int) (tokens, end int) {
	word, punct := 0, 0 // bytes in the current letter and punctuation runs
	wordStart, punctStart := 0, 0
	// flush closes the open runs before byte i; it reports false when the
	// limit cuts a run, having set end to where the cut falls.
	flush := func(i int) bool {
		for _, r := range [...]struct {
			n, start, per int
		}{{word, wordStart, 4}, {punct, punctStart, 2}} {
			if r.n == 0 {
				continue
			}
			t := (r.n + r.per - 1) / r.per
			if limit >= 0 && tokens+t > limit {
				end = r.start + (limit-tokens)*r.per
				tokens = limit
				return false
			}
			tokens += t
		}
		word, punct = 0, 0
		end = i
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
				if punct > 0 && !flush(i) {
					return tokens, end
				}
				if word == 0 {
					wordStart = i
				}
				word++
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				if !flush(i) {
					return tokens, end
				}
				end = i + 1
			default:
				if word > 0 && !flush(i) {
					return tokens, end
				}
				if punct == 0 {
					punctStart = i
				}
				punct++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			if !flush(i) {
				return tokens, end
			}
			if limit >= 0 && tokens+1 > limit {
				return tokens, end
			}
			tokens++
			end = i + size
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if punct > 0 && !flush(i) {
				return tokens, end
			}
			if word == 0 {
				wordStart = i
			}
			word += size
		default:
			if !flush(i) {
				return tokens, end
			}
			t := (size + 1) / 2
			if limit >= 0 && tokens+t > limit {
				return tokens, end
			}
			tokens += t
			end = i + size
		}
		i += size
	}
	flush(len(s))
	return tokens, end
}

// isCJK reports whether r is a character CJK tokenizers take one at a time.
func isCJK(r rune) bool {
	switch {
	case r >= 0x3040 && r <= 0x30FF: // Hiragana, Katakana
		return true
	case r >= 0x3400 && r <= 0x9FFF: // CJK Unified Ideographs (+ Ext. A)
		return true
	case r >= 0xAC00 && r <= 0xD7AF: // Hangul syllables
		return true
	case r >= 0x3000 && r <= 0x303F: // CJK symbols and punctuation
		return true
	case r >= 0xFF00 && r <= 0xFFEF: // full-width forms
		return true
	case r >= 0xF900 && r <= 0xFAFF, r >= 0x20000 && r <= 0x2FFFF:
		return true
	}
	return false
}

// truncateTokens cuts s to at most n tokens.
func truncateTokens(s string, n int) string {
	_, end := tokensUpTo(s, n)
	if end > len(s) {
		end = len(s)
	}
	// A cut inside a multi-byte rune backs off to its start.
	for end > 0 && end < len(s) && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end]
}
