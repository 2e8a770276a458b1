package interp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/llmpipe/llmpipe/internal/box"
)

// sameAsSlow checks that ParseReply (fast path first) answers text exactly
// as the encoding/json path does.
func sameAsSlow(t *testing.T, s *Schema, text string) {
	t.Helper()
	got, gerr := s.ParseReply(text)
	want, werr := s.parseReplySlow(text)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%q: error %v, slow path %v", text, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", text, got, want)
	}
	// The same with the strings boxed as the runtime's workers box them.
	boxed, berr := s.ParseReplyBoxing(text, new(box.Strings).String)
	if fmt.Sprint(berr) != fmt.Sprint(gerr) || !reflect.DeepEqual(boxed, got) {
		t.Fatalf("%q: boxed strings give %#v, %v; plain %#v, %v", text, boxed, berr, got, gerr)
	}
}

var scanReplies = []string{
	`{"name":"Ann","age":34}`,
	" \n{\"name\" : \"A\\\"nn\\u00e9\\n\", \"age\": 3.0e1 }\t",
	`{"name":"Ann","age":34,"name":"Bo"}`,
	`{"name":"A","age":1,"extra":{"deep":[1,{"x":null}],"s":"\u263a"}}`,
	`{"name":"A","age":1,"tags":["x","y"],"mood":"sad","addr":{"city":"Oslo","zip":1},"score":-0.5e-3}`,
	`{"name":"A","age":1,"tags":["x",5]}`,
	`{"name":"A","age":1e400}`,
	`{"name":"A","age":-0}`,
	`{"name":"A","age":12345678901234567890}`,
	`{"name":"A","age":9007199254740993.0}`,
	`{"name":null,"age":true,"email":null}`,
	`{"name":"bad \ud800 surrogate","age":1}`,
	"{\"name\":\"bad \xff utf8\",\"age\":1}",
	`{"name":"A","age":01}`,
	`{"name":"A","age":1,}`,
	`{"name":"A","age":1} {"x":1}`,
	`{"name":"A","age":1} trailing`,
	`{"name":"A","age":1`,
	`{"name":"A\tB","age":1}`,
	`{"name":"A","age":1.}`,
	`{"name":"A","age":-}`,
	`{"name":"A","age":tru}`,
	`{}`,
	`{ }`,
	`[]`,
	`"str"`,
	"```json\n{\"name\":\"A\",\"age\":1}\n```",
	`Here: {"name":"A","age":1}`,
	`{"a":` + deepNest(100) + `}`,
	"```\n```", // used to panic in extractJSON
}

func deepNest(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}

func TestParseReplyFastMatchesSlow(t *testing.T) {
	for _, text := range scanReplies {
		sameAsSlow(t, personSchema(), text)
	}
}

// The fast path must actually serve a clean reply: no recovery, typed values.
func TestParseReplyFastValues(t *testing.T) {
	s := personSchema()
	var vals [7]any
	var has, typed [7]bool
	text := `{"name":"Ann","age":34,"score":2.5e0,"tags":["a"],"zzz":[{"q":"\n"}]}`
	if !scanFields(text, s.Type.Fields, vals[:], has[:], typed[:], nil) {
		t.Fatal("scanFields refused a clean object")
	}
	if vals[0] != "Ann" || vals[1] != 34 || !typed[1] || vals[3] != 2.5 || !typed[3] || typed[0] || !has[4] || has[2] {
		t.Errorf("vals %#v has %v typed %v", vals, has, typed)
	}
	if !scanFields(`{"age":3.5}`, s.Type.Fields, vals[:], has[:], typed[:], nil) || vals[1] != json.Number("3.5") || typed[1] {
		t.Errorf("a misfit number should stay a json.Number for conform to describe: %#v %v", vals[1], typed[1])
	}
	for _, bad := range []string{`{"name":"A"} x`, `{"name":"A",}`, "{\"name\":\"\xff\"}", `[1]`, `{"age":-}`, `{"age":1.}`} {
		if scanFields(bad, s.Type.Fields, vals[:], has[:], typed[:], nil) {
			t.Errorf("scanFields accepted %q", bad)
		}
	}
}

func FuzzParseReplyFast(f *testing.F) {
	for _, s := range scanReplies {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sameAsSlow(t, personSchema(), text)
	})
}

func BenchmarkParseReply(b *testing.B) {
	s := &Schema{Name: "Out", Type: &Type{Kind: KindObject, Fields: []*Field{
		{Name: "label", Type: &Type{Kind: KindEnum, Enum: []string{"a", "b"}}},
		{Name: "score", Type: &Type{Kind: KindInt}},
	}}}
	for _, path := range []struct {
		name  string
		parse func(string) (*Reply, error)
	}{{"fast", s.ParseReply}, {"encoding_json", s.parseReplySlow}} {
		b.Run(path.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := path.parse(`{"label":"a","score":3}`); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
