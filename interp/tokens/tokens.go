// Package tokens is the one token estimator of llmpipe: the runtime's
// quota and budget estimates, the tokens() function of expressions, the
// cache code's storage estimates and `llmpipe plan` all count with it, so
// that a better estimate lands everywhere at once.
//
// It lives under interp, the lowest layer that evaluates text, so that
// every layer above can import it; it imports only the standard library.
//
// # The estimate
//
// The budget reserves a call's input from this estimate before the call,
// so it must not fall below what a real tokenizer counts, whatever the
// script: four bytes a token (or four runes) under-counts CJK text, where
// real vocabularies spend about one token per character, and code, where
// punctuation comes in short tokens. The estimate is therefore counted per
// script, on the shapes real tokenizers share:
//
//   - a run of letters (ASCII or not) costs one token per 4 UTF-8 bytes,
//     rounded up: about one token per word of English, one per two
//     characters of Cyrillic or Greek;
//   - each digit is a token (Gemini's vocabulary splits numbers);
//   - a run of punctuation costs one token per 2 bytes, rounded up;
//   - a space before a word is free; each newline, and each further 4
//     spaces of indentation, is a token;
//   - each CJK character (Han, kana, Hangul, full-width forms) is a token;
//   - any other rune (emoji, symbols) costs one token per 2 UTF-8 bytes.
//
// For English prose this comes to about 4 characters a token, as before;
// for JSON, code and numbers it is higher, and for CJK about 4 times what
// a bytes/4 rule gives. The quota pacer still corrects its view of TPM
// from the counts the server reports.
//
// The simulator (stdlib/gemini/sim) has its own tokenizer on purpose: it
// stands in for Gemini's, so that a test can catch this estimate falling
// below what a model would count.
package tokens

import (
	"unicode"
	"unicode/utf8"
)

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
	tokens int
}

// Add counts s. A run of letters or punctuation ends with s: texts are
// separate parts.
func (c *Counter) Add(s string) {
	n := 0
	letters, punct, spaces := 0, 0, 0 // bytes in the open runs
	flush := func() {
		n += (letters+3)/4 + (punct+1)/2
		if spaces > 1 {
			n += (spaces - 1 + 3) / 4
		}
		letters, punct, spaces = 0, 0, 0
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', b == '_':
				if punct > 0 || spaces > 0 {
					flush()
				}
				letters++
			case '0' <= b && b <= '9':
				flush()
				n++
			case b == ' ' || b == '\t':
				if letters > 0 || punct > 0 {
					flush()
				}
				spaces++
			case b == '\n' || b == '\r':
				flush()
				n++
			default:
				if letters > 0 || spaces > 0 {
					flush()
				}
				punct++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			flush()
			n++
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if punct > 0 || spaces > 0 {
				flush()
			}
			letters += size
		default:
			flush()
			n += (size + 1) / 2
		}
		i += size
	}
	flush()
	c.tokens += n
}

// Tokens is the estimate for everything added so far.
func (c *Counter) Tokens() int { return c.tokens }

// isCJK reports whether r is a character that tokenizers take about one
// at a time: Han, kana, Hangul, CJK punctuation and full-width forms.
func isCJK(r rune) bool {
	switch {
	case r >= 0x3000 && r <= 0x30FF, // CJK punctuation, Hiragana, Katakana
		r >= 0x3400 && r <= 0x9FFF,   // CJK Unified Ideographs (+ Ext. A)
		r >= 0xAC00 && r <= 0xD7AF,   // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF,   // CJK compatibility ideographs
		r >= 0xFF00 && r <= 0xFFEF,   // full-width forms
		r >= 0x20000 && r <= 0x2FFFF: // CJK extensions B and on
		return true
	}
	return false
}
