package stdlib

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdJSON is what encoding/json writes for v with HTML escaping off.
func stdJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func checkSameAsStd(t *testing.T, v any) {
	t.Helper()
	want, werr := stdJSON(v)
	var a jsonAppender
	gerr := a.value(v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, encoding/json %v", v, gerr, werr)
	}
	if werr == nil && string(a.buf) != want {
		t.Fatalf("%#v:\n got %s\nwant %s", v, a.buf, want)
	}
}

func TestJSONAppenderCases(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, `null`},
		{"html kept", "a<b>&c", `"a<b>&c"`},
		{"controls", "\b\f\n\r\t\x00\x1f\"\\", `"\b\f\n\r\t\u0000\u001f\"\\"`},
		{"line separators", "a\u2028b\u2029", `"a\u2028b\u2029"`},
		{"bad utf8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"unicode", "日本é", `"日本é"`},
		{"sorted keys", map[string]any{"b": 1, "a": []any{true, nil}, "c": map[string]any{"z": "", "y": 2.5}}, `{"a":[true,null],"b":1,"c":{"y":2.5,"z":""}}`},
		{"nil map", map[string]any(nil), `null`},
		{"nil list", []any(nil), `null`},
		{"nil strings", []string(nil), `null`},
		{"strings", []string{"a", "b"}, `["a","b"]`},
		{"empty", map[string]any{}, `{}`},
		{"small float", 1e-7, `1e-7`},
		{"big float", 1e21, `1e+21`},
		{"float", 0.000125, `0.000125`},
		{"neg zero", math.Copysign(0, -1), `-0`},
		{"int64", int64(-9), `-9`},
		{"number", json.Number("1.5e3"), `1.5e3`},
		{"empty number", json.Number(""), `0`},
		{"raw", json.RawMessage(`{ "a" : [1, 2] }`), `{"a":[1,2]}`},
		{"nil raw", json.RawMessage(nil), `null`},
		{"other type", map[string]any{"m": map[string]string{"k": "<v>"}}, `{"m":{"k":"<v>"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a jsonAppender
			if err := a.value(tt.v); err != nil {
				t.Fatal(err)
			}
			if string(a.buf) != tt.want {
				t.Errorf("got %s, want %s", a.buf, tt.want)
			}
			checkSameAsStd(t, tt.v)
		})
	}
}

func TestJSONAppenderErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(-1), json.Number("1."), json.Number("01"), json.RawMessage(`{`), []any{make(chan int)}} {
		var a jsonAppender
		if err := a.value(v); err == nil {
			t.Errorf("%#v: no error, want one (encoding/json refuses it)", v)
		}
	}
}

// randValue builds a random record-shaped value, deep at most depth.
func randValue(r *rand.Rand, depth int) any {
	n := 9
	if depth <= 0 {
		n = 7
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.IntN(1<<20) - 1<<19
	case 3:
		return randFloat(r)
	case 4:
		return randString(r)
	case 5:
		return json.Number(randNumberText(r))
	case 6:
		return int64(r.Uint64())
	case 7:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randString(r)] = randValue(r, depth-1)
		}
		return m
	default:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randValue(r, depth-1)
		}
		return l
	}
}

func randFloat(r *rand.Rand) float64 {
	for {
		var f float64
		switch r.IntN(3) {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
		default:
			f = float64(r.IntN(1000)) / 8
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func randString(r *rand.Rand) string {
	pieces := []string{"a", "Z", " ", "<", ">", "&", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "日", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "😀", "/"}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randNumberText(r *rand.Rand) string {
	nums := []string{"0", "-0", "12", "-3.25", "1e10", "2E-3", "6.02e+23", "0.5"}
	return nums[r.IntN(len(nums))]
}

func TestJSONAppenderMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		checkSameAsStd(t, randValue(r, 4))
	}
}

func FuzzJSONAppender(f *testing.F) {
	f.Add("tea & <cake>", 0.000125, "1.5")
	f.Add("\xff\u2028\x01", 1e21, "-0")
	f.Fuzz(func(t *testing.T, s string, x float64, num string) {
		checkSameAsStd(t, map[string]any{s: []any{s, x, json.Number(num)}, "k": s})
	})
}

// TestObjectLikeMatchesEncodingJSON: writing a run of maps through one
// objectLike call site (the jsonl sink's items) gives encoding/json's bytes
// for each, whether its keys are the last map's, a subset, a superset or
// others of the same number.
func TestObjectLikeMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := []string{"id", "text", "a", "b", "é", "<z>"}
	var a jsonAppender
	var last []string
	for i := range 3000 {
		var m map[string]any
		if r.IntN(20) > 0 {
			m = map[string]any{}
			for range r.IntN(len(pool) + 1) {
				m[pool[r.IntN(len(pool))]] = randValue(r, 2)
			}
		}
		want, werr := stdJSON(m)
		a.buf = a.buf[:0]
		gerr := a.objectLike(m, &last)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("map %d %#v: error %v, encoding/json %v", i, m, gerr, werr)
		}
		if werr == nil && string(a.buf) != want {
			t.Fatalf("map %d %#v:\n got %s\nwant %s", i, m, a.buf, want)
		}
	}
}
