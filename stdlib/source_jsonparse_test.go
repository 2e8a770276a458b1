package stdlib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/internal/box"
)

// stdDecode is the reference: encoding/json with UseNumber, then normalize.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.Trim(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, errTrailing
	}
	return normalize(v), nil
}

var errTrailing = &jsonSyntaxError{Msg: "trailing"}

var parseSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -3, 1e3, -0, 0.5e-2, true, false, null]} `,
	`{"s":"plain","u":"h\u00e9llo","e":"a\nb\t\"q\" \\ \/ \b\f\r"}`,
	`{"emoji":"\ud83d\ude00","lone":"\ud800x","lone2":"\udc00","pair?":"\ud800\u0041","hi-hi":"\ud800\ud800"}`,
	`{"utf8":"héllo wörld ✓","bad":"` + "\xff\xfe" + `"}`,
	`{"big":123456789012345678901234,"max":9223372036854775807,"over":9223372036854775808,"min":-9223372036854775808,"n18":-99999999999999999}`,
	`{"dup":1,"dup":2}`, `{"nested":{"a":{"b":[{"c":[]}]}}}`,
	`"str"`, `42`, `null`, `true`,
	// invalid
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a":1 "b":2}`, `{'a':1}`, `{"a":01}`, `{"a":1.}`,
	`{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`, `{"a":"x\q"}`, `{"a":"\u12"}`,
	`{"a":"\u12zz"}`, "{\"a\":\"x\ty\"}", `{"a":"unterminated}`, `{"a":1} {"b":2}`, `{"a":1}x`, `{a:1}`,
	"0\f", "{}\v", `{"a":NaN}`, `{"a":Infinity}`, `[1 2]`, `{"a":[1}`, `{"a":"\ud800\u12"}`,
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, in := range parseSeeds {
		checkParseAgainstStd(t, []byte(in))
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := parseJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep nesting: err = %v", err)
	}
}

func checkParseAgainstStd(t *testing.T, in []byte) {
	t.Helper()
	got, gerr := parseJSON(in)
	want, werr := stdDecode(in)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: parseJSON err = %v, encoding/json err = %v", in, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %#v\n want %#v", in, got, want)
	}
	// The same with the strings boxed as a jsonl source boxes them.
	boxed, berr := parseJSONText(string(in), new(box.Strings).String)
	if fmt.Sprint(berr) != fmt.Sprint(gerr) || !reflect.DeepEqual(boxed, got) {
		t.Fatalf("%q: boxed strings give %#v, %v; plain %#v, %v", in, boxed, berr, got, gerr)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if bytes.Count(in, []byte{'['})+bytes.Count(in, []byte{'{'}) > maxDepth/2 {
			return // the depth limits differ in detail
		}
		checkParseAgainstStd(t, in)
	})
}

func TestParseJSONErrorColumn(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":x}`, "invalid character 'x' looking for a value at column 6"},
		{`{"a":1,}`, "invalid character '}' looking for an object key at column 8"},
		{`{"a" 1}`, "invalid character '1' after an object key at column 6"},
		{`{"a":"x\q"}`, `invalid character 'q' in string escape code at column 9`},
		{"{\"a\":\"\x01\"}", `invalid character '\x01' in string literal at column 7`},
		{`{"a":1`, "unexpected end of line after an object value at column 7"},
		{`[1 2]`, "invalid character '2' after an array element at column 4"},
	} {
		_, err := parseJSON([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.in, err, tc.want)
		}
	}
}
