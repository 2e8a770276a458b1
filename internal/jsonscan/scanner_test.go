package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestStr(t *testing.T) {
	for _, tc := range []struct {
		in      string
		replace bool
		want    string
		ok      bool
		at      int    // failure offset, when !ok
		why     string // failure context, when !ok
	}{
		{`"plain"`, false, "plain", true, 0, ""},
		{` "héllo ✓"`, false, "héllo ✓", true, 0, ""},
		{`"a\nb\t\"q\" \\ \/ \b\f\r"`, false, "a\nb\t\"q\" \\ / \b\f\r", true, 0, ""},
		{`"h\u00e9llo \u263A"`, false, "héllo ☺", true, 0, ""},
		{`"\ud83d\ude00"`, true, "😀", true, 0, ""},
		{`"\ud83d\ude00"`, false, "", false, 1, "surrogate in \\u escape"},
		{`"\ud800x"`, true, "\uFFFDx", true, 0, ""},
		{`"\udc00"`, true, "\uFFFD", true, 0, ""},
		{`"\ud800\u0041"`, true, "\uFFFDA", true, 0, ""},
		{`"\ud800\ud800"`, true, "\uFFFD\uFFFD", true, 0, ""},
		{"\"a\xff\xfeb\"", true, "a\uFFFD\uFFFDb", true, 0, ""},
		{"\"a\xff\\n\"", true, "a\uFFFD\n", true, 0, ""},
		{"\"a\xffb\"", false, "", false, 0, "invalid UTF-8 in string literal"},
		{"\"\\n\xff\"", false, "", false, 0, "invalid UTF-8 in string literal"},
		{`"x\q"`, false, "", false, 3, "in string escape code"},
		{`"x\`, false, "", false, 3, "in string escape code"},
		{`"\u12"`, false, "", false, 6, "in \\u hexadecimal character escape"}, // fewer than 4 bytes left
		{`"\u12"}`, false, "", false, 5, "in \\u hexadecimal character escape"},
		{`"\u12zz"`, false, "", false, 5, "in \\u hexadecimal character escape"},
		{`"\u1`, false, "", false, 4, "in \\u hexadecimal character escape"},
		{`"\ud800\u12"`, true, "", false, 12, "in \\u hexadecimal character escape"},
		{"\"a\tb\"", false, "", false, 2, "in string literal"},
		{"\"\\n\x01\"", false, "", false, 3, "in string literal"},
		{`"unterminated`, false, "", false, 13, "in string literal"},
		{`"esc\"aped`, false, "", false, 10, "in string literal"},
		{`x`, false, "", false, 0, "looking for a string"},
	} {
		s := New(tc.in)
		s.ReplaceInvalid = tc.replace
		got, ok := s.Str()
		at, why := s.Failure()
		if ok != tc.ok || got != tc.want || (!ok && (at != tc.at || why != tc.why)) {
			t.Errorf("%q (replace %v): got %q %v, failure %d %q; want %q %v, failure %d %q",
				tc.in, tc.replace, got, ok, at, why, tc.want, tc.ok, tc.at, tc.why)
		}
		if ok && !s.End() {
			t.Errorf("%q: Str stopped at %d", tc.in, s.Pos())
		}
	}
}

// A string without escapes must be a slice of the text, not a copy.
func TestStrSlicesText(t *testing.T) {
	text := `  "abcdef"`
	s := New(text)
	got, ok := s.Str()
	if !ok || got != "abcdef" {
		t.Fatalf("got %q %v", got, ok)
	}
	if n := testing.AllocsPerRun(100, func() { s := New(text); s.Str() }); n != 0 {
		t.Errorf("Str of a plain string allocates %v times", n)
	}
	esc := `"a\nb"`
	if n := testing.AllocsPerRun(100, func() { s := New(esc); s.Str() }); n != 1 {
		t.Errorf("Str of an escaped string allocates %v times, want 1", n)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
		at       int
		why      string
	}{
		{"0", "0", true, 0, ""},
		{" -12.5e+3,", "-12.5e+3", true, 0, ""},
		{"1E-2]", "1E-2", true, 0, ""},
		{"01", "0", true, 0, ""}, // the 1 is the caller's problem
		{"-", "", false, 1, "in numeric literal"},
		{"-x", "", false, 1, "in numeric literal"},
		{"+1", "", false, 0, "in numeric literal"},
		{".5", "", false, 0, "in numeric literal"},
		{"1.", "", false, 2, "after decimal point in numeric literal"},
		{"1.e3", "", false, 2, "after decimal point in numeric literal"},
		{"1e", "", false, 2, "in exponent of numeric literal"},
		{"1e+", "", false, 3, "in exponent of numeric literal"},
	} {
		s := New(tc.in)
		got, ok := s.Number()
		at, why := s.Failure()
		if ok != tc.ok || got != tc.want || (!ok && (at != tc.at || why != tc.why)) {
			t.Errorf("%q: got %q %v, failure %d %q", tc.in, got, ok, at, why)
		}
	}
}

func TestSmallInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"42", 42, true}, {"-7", -7, true},
		{"999999999999999999", 999999999999999999, true},
		{"-99999999999999999", -99999999999999999, true},
		{"1000000000000000000", 0, false}, // 19 digits may overflow
		{"1.5", 0, false}, {"1e3", 0, false}, {"", 0, false}, {"-", 0, false},
	} {
		got, ok := SmallInt(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SmallInt(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		in, word string
		ok       bool
		at       int
	}{
		{" true", "true", true, 0}, {"null,", "null", true, 0},
		{"tru", "true", false, 3}, {"nul1", "null", false, 3}, {"fals", "false", false, 4},
	} {
		s := New(tc.in)
		ok := s.Literal(tc.word)
		if at, why := s.Failure(); ok != tc.ok || (!ok && (at != tc.at || why != "in literal "+tc.word)) {
			t.Errorf("%q: %v, failure %d %q", tc.in, ok, at, why)
		}
	}
}

// Failures inside containers name the place as encoding/json does.
func TestValueFailure(t *testing.T) {
	for _, tc := range []struct {
		in  string
		at  int
		why string
	}{
		{`{"a":x}`, 5, "looking for a value"},
		{`{"a":1,}`, 7, "looking for an object key"},
		{`{"a" 1}`, 5, "after an object key"},
		{`{"a":1`, 6, "after an object value"},
		{`[1 2]`, 3, "after an array element"},
		{`[1,]`, 3, "looking for a value"},
		{``, 0, "looking for a value"},
		{`{a:1}`, 1, "looking for an object key"},
		{`[[[1]]]`, 2, TooDeep},
	} {
		s := New(tc.in)
		s.MaxDepth = 2
		v, ok := s.Value()
		if at, why := s.Failure(); ok || at != tc.at || why != tc.why {
			t.Errorf("%q: %#v %v, failure %d %q; want %d %q", tc.in, v, ok, at, why, tc.at, tc.why)
		}
		s = New(tc.in)
		s.MaxDepth = 2
		if s.Skip() {
			t.Errorf("%q: Skip accepted it", tc.in)
		}
	}
}

func TestWalkMembers(t *testing.T) {
	s := New(` { "a" : [1, "x"] , "b":{} } rest`)
	var keys []string
	more, ok := s.Open('{')
	for ok && more {
		var k string
		if k, ok = s.Key(); !ok {
			break
		}
		keys = append(keys, k)
		raw, rok := s.Raw()
		if !rok {
			t.Fatalf("Raw failed at %d", s.Pos())
		}
		keys = append(keys, raw)
		more, ok = s.Next('}')
	}
	if !ok || strings.Join(keys, "|") != `a|[1, "x"]|b|{}` {
		t.Fatalf("walked %q, ok %v", keys, ok)
	}
	if s.End() || s.Peek() != 'r' {
		t.Errorf("End after the object with text left; Peek %q", s.Peek())
	}
	e := New(" [ ] ")
	if more, ok := e.Open('['); more || !ok || !e.End() {
		t.Errorf("empty array: more %v ok %v", more, ok)
	}
}

func TestNumbersHook(t *testing.T) {
	s := New(`[1, 2.5, -3]`)
	s.Numbers = func(text string) any {
		if n, ok := SmallInt(text); ok {
			return n
		}
		return "f" + text
	}
	v, ok := s.Value()
	if want := []any{1, "f2.5", -3}; !ok || !reflect.DeepEqual(v, want) {
		t.Errorf("got %#v %v, want %#v", v, ok, want)
	}
}

var fuzzSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -3, 1e3, -0, 0.5e-2, true, false, null]} `,
	`{"s":"plain","u":"h\u00e9llo","e":"a\nb\t\"q\" \\ \/ \b\f\r"}`,
	`{"emoji":"\ud83d\ude00","lone":"\ud800x","lone2":"\udc00","pair?":"\ud800\u0041"}`,
	`{"utf8":"héllo ✓","bad":"` + "\xff\xfe" + `"}`, `{"dup":1,"dup":2}`,
	`"str"`, `42`, `null`, `true`, ``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `{"a":01}`,
	`{"a":1.}`, `{"a":tru}`, `{"a":"x\q"}`, `{"a":"\u12"}`, "{\"a\":\"x\ty\"}", `{"a":1} x`,
	"0\f", `{"a":NaN}`, `[1 2]`, `{"a":"\ud800\u12"}`,
}

// Value must accept exactly what encoding/json accepts (ReplaceInvalid) and
// decode it the same way; without ReplaceInvalid it may refuse more, but
// never decode differently. Skip and Raw must agree with Value.
func FuzzValue(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Count(in, "[")+strings.Count(in, "{") > DefaultMaxDepth/2 {
			return // the depth limits differ in detail
		}
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		var want any
		werr := dec.Decode(&want)
		if werr == nil && len(bytes.Trim([]byte(in[dec.InputOffset():]), " \t\r\n")) > 0 {
			werr = &json.SyntaxError{}
		}
		for _, replace := range []bool{true, false} {
			s := New(in)
			s.ReplaceInvalid = replace
			got, ok := s.Value()
			ok = ok && s.End()
			if replace && ok != (werr == nil) {
				t.Fatalf("%q: Value ok %v, encoding/json %v", in, ok, werr)
			}
			if ok && werr != nil {
				t.Fatalf("%q: strict Value accepted what encoding/json refuses: %v", in, werr)
			}
			if ok && !reflect.DeepEqual(got, want) {
				t.Fatalf("%q (replace %v):\n got  %#v\n want %#v", in, replace, got, want)
			}
			k := New(in)
			k.ReplaceInvalid = replace
			raw, kok := k.Raw()
			if kok = kok && k.End(); kok != ok {
				t.Fatalf("%q (replace %v): Skip ok %v, Value ok %v", in, replace, kok, ok)
			}
			if ok && raw != strings.Trim(in, " \t\r\n") {
				t.Fatalf("%q: Raw %q", in, raw)
			}
		}
	})
}
