package sim

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// promptInfo is what a reply can borrow from the prompt: words, runs of
// Capitalized words (names), e-mails, URLs, dates and numbers.
type promptInfo struct {
	lower   string   // the whole prompt, lower-cased
	words   []string // punctuation-trimmed tokens
	capRuns []string // runs of ≥2 Capitalized words
	capOne  []string // single Capitalized words
	emails  []string
	urls    []string
	phones  []string
	dates   []string
	ints    []int64
	floats  []float64
}

var fallbackWords = strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore")

// notNames are capitalised words that start instructions rather than name
// anything.
var notNames = map[string]bool{
	"A": true, "An": true, "The": true, "This": true, "That": true, "These": true, "Those": true,
	"I": true, "You": true, "We": true, "It": true, "He": true, "She": true, "They": true,
	"Return": true, "Extract": true, "Give": true, "Please": true, "Classify": true, "Summarize": true,
	"Summarise": true, "Answer": true, "Output": true, "Input": true, "Text": true, "JSON": true,
	"Name": true, "Email": true, "Age": true, "If": true, "In": true, "On": true, "For": true,
	"And": true, "Or": true, "Is": true, "Are": true, "Be": true, "Use": true, "Write": true,
	"Respond": true, "Reply": true, "Here": true, "Note": true, "Your": true, "Our": true, "My": true,
	"Previous": true, "Fix": true, "Try": true, "Do": true, "Not": true, "Make": true, "Only": true,
}

const trimPunct = ".,;:!?()[]{}\"'`<>*"

func analyzePrompt(text string) *promptInfo {
	p := &promptInfo{lower: strings.ToLower(text)}
	var run []string
	flush := func() {
		if len(run) >= 2 {
			p.capRuns = append(p.capRuns, strings.Join(run, " "))
		} else if len(run) == 1 {
			p.capOne = append(p.capOne, run[0])
		}
		run = run[:0]
	}
	for _, raw := range strings.Fields(text) {
		w := strings.Trim(raw, trimPunct)
		if w == "" {
			flush()
			continue
		}
		p.words = append(p.words, w)
		switch {
		case !hasDigit(w) && !strings.Contains(w, "@") && !strings.Contains(w, "://") && !strings.HasPrefix(w, "www."):
			// the common case: a plain word
		case strings.Contains(w, "@") && strings.Contains(w[strings.IndexByte(w, '@'):], "."):
			p.emails = append(p.emails, w)
		case strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://") || strings.HasPrefix(w, "www."):
			p.urls = append(p.urls, w)
		case isDate(w):
			p.dates = append(p.dates, w)
		case isPhone(w):
			p.phones = append(p.phones, w)
		}
		if num := strings.TrimLeft(w, "$€£"); looksNumeric(num) {
			if n, err := strconv.ParseInt(num, 10, 64); err == nil {
				p.ints = append(p.ints, n)
				p.floats = append(p.floats, float64(n))
			} else if f, err := strconv.ParseFloat(num, 64); err == nil {
				p.floats = append(p.floats, f)
			}
		}
		label := strings.HasSuffix(raw, ":")
		if isCapitalized(w) && !label && !notNames[w] {
			run = append(run, w)
			// A comma or full stop ends the name.
			if strings.ContainsAny(raw[len(raw)-1:], ".,;!?)") {
				flush()
			}
		} else {
			flush()
		}
	}
	flush()
	if len(p.words) == 0 {
		p.words = fallbackWords
	}
	return p
}

// looksNumeric is a cheap filter before strconv, whose errors allocate.
func looksNumeric(w string) bool {
	if w == "" {
		return false
	}
	c := w[0]
	if (c == '-' || c == '+') && len(w) > 1 {
		c = w[1]
	}
	return c >= '0' && c <= '9'
}

func hasDigit(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= '0' && w[i] <= '9' {
			return true
		}
	}
	return false
}

func isCapitalized(w string) bool {
	r, size := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || len(w) < 2 {
		return false
	}
	upper := 1
	for _, c := range w[size:] {
		if !unicode.IsLetter(c) && c != '-' && c != '\'' {
			return false
		}
		if unicode.IsUpper(c) {
			upper++
		}
	}
	// "NASA" or "JSON" is an acronym, not a name.
	return upper < utf8.RuneCountInString(w)
}

// isDate accepts YYYY-MM-DD (optionally followed by a time).
func isDate(w string) bool {
	if len(w) < 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := w[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isPhone(w string) bool {
	digits := 0
	for _, c := range w {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == '+' || c == '(' || c == ')' || c == '.':
		default:
			return false
		}
	}
	return digits >= 7 && strings.ContainsAny(w, "-+(")
}

// span returns n consecutive words starting at a random position.
func (p *promptInfo) span(r *stream, lo, hi int) string {
	n := r.between(lo, hi)
	if n > len(p.words) {
		n = len(p.words)
	}
	start := r.intn(len(p.words) - n + 1)
	return strings.Join(p.words[start:start+n], " ")
}

func pick[T any](r *stream, xs []T) T { return xs[r.intn(len(xs))] }
