package lang

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// litOf parses `config { x = SRC }` and returns the literal of x.
func litOf(t *testing.T, src string) (Literal, Diagnostics) {
	t.Helper()
	f, diags := Parse("t.llmp", []byte("config {\n  x = "+src+"\n}\n"))
	if len(diags) > 0 {
		return nil, diags
	}
	return f.Blocks[0].Body.Entries[0].(*Attribute).Value.Lit, nil
}

func TestLiterals(t *testing.T) {
	tests := []struct {
		src  string
		want string // %#v-free summary, or "error: message"
	}{
		{"42", "int 42"},
		{"1_000_000", "int 1000000"},
		{"-7", "int -7"},
		{"0.25", "float 0.25"},
		{"1e6", "float 1e+06"},
		{"1.5e-3", "float 0.0015"},
		{"500ms", "duration 500ms"},
		{"30s", "duration 30s"},
		{"2m", "duration 2m0s"},
		{"1h30m", "duration 1h30m0s"},
		{"1.5h", "duration 1h30m0s"},
		{"$5", "money 5"},
		{"$0.25", "money 0.25"},
		{"$1_000", "money 1000"},
		{`"a\tb"`, "string \"a\\tb\""},
		{`"\u00e9\x41\101"`, "string \"éAA\""},
		{"item.id", "ref item.id"},
		{"[]", "list 0"},
		{"[1, 2,]", "list 2"},
		{"[\n  a,\n  b,\n]", "list 2"},
		{"1s .. 30s", "range"},
		{"item.x != 1", "nil"},
		{"[a, f(x)]", "nil"},
		{"[a,,b]", "nil"},
		{"- 5", "nil"},
		{"5x", `error: invalid duration "5x"`},
		{"1h3", `error: invalid duration "1h3"`},
		{"1_000ms", `error: invalid duration "1_000ms"`},
		{"1__0", `error: invalid number "1__0"`},
		{"1e", `error: invalid duration "1e"`},
		{"$1.2.3", `error: invalid money amount "$1.2.3"`},
		{"$5.", `error: the value ends with "."`},
		{"9223372036854775808", `error: integer "9223372036854775808" is too large`},
		{"100000000000h", `error: invalid duration "100000000000h"`},
		{`"\z"`, `error: invalid escape sequence "\z"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			lit, diags := litOf(t, tt.src)
			var got string
			switch l := lit.(type) {
			case nil:
				got = "nil"
				if len(diags) > 0 {
					got = "error: " + diags[0].Message
				}
			case *NumberLit:
				if l.IsInt {
					got = fmt.Sprintf("int %d", l.Int)
				} else {
					got = fmt.Sprintf("float %g", l.Float)
				}
			case *DurationLit:
				got = "duration " + l.Duration.String()
			case *MoneyLit:
				got = fmt.Sprintf("money %g", l.Dollars)
			case *StringLit:
				got = fmt.Sprintf("string %q", l.Value)
			case *RefLit:
				got = "ref " + l.Dotted()
			case *ListLit:
				got = fmt.Sprintf("list %d", len(l.Elems))
			case *RangeLit:
				got = "range"
				if l.Lo.Lit.(*DurationLit).Duration != time.Second || l.Hi.Lit.(*DurationLit).Duration != 30*time.Second {
					t.Errorf("range bounds %v .. %v", l.Lo.Raw, l.Hi.Raw)
				}
			}
			if got != tt.want {
				t.Errorf("%s: got %s, want %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestDecodeTriple(t *testing.T) {
	tests := []struct{ body, want string }{
		{"\n    a\n    b\n    ", "a\nb\n"},
		{"\n    a\n      b\n  ", "  a\n    b\n"},
		{"\n    a\n\n    b\n    ", "a\n\nb\n"},
		{"\n    a\n  \n    b\n    ", "a\n\nb\n"},
		{"\n    a\n      \n    b\n    ", "a\n  \nb\n"},
		{"\n    a\n    b", "a\nb"},
		{"first\n    second\n    ", "first\nsecond\n"},
		{"one line", "one line"},
		{"", ""},
		{"\n", ""},
		{"  \n  x\r\n  ", "x\n"},
		{"\n\t\ta\n\t\t", "a\n"},
		{"\n\t a\n \t", "\t a\n"},
	}
	for _, tt := range tests {
		if got, _ := decodeTriple(tt.body, 0, nil); got != tt.want {
			t.Errorf("decodeTriple(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestPosAt(t *testing.T) {
	src := "step s {\n  prompt = \"\"\"\n    Hi {{ x }}\n      é {{ y }}\n    \"\"\"\n  p2 = \"a\\tb\"\n}\n"
	f, diags := Parse("t.llmp", []byte(src))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	triple := f.Blocks[0].Body.Entries[0].(*Attribute).Value.Lit.(*StringLit)
	quoted := f.Blocks[0].Body.Entries[1].(*Attribute).Value.Lit.(*StringLit)
	tests := []struct {
		s    *StringLit
		off  int
		want string
	}{
		{triple, 0, "3:5"},    // H
		{triple, 6, "3:11"},   // x
		{triple, 11, "4:5"},   // the two spaces kept before é
		{triple, 13, "4:7"},   // é
		{triple, 15, "4:8"},   // the space after é (é is two bytes, one column)
		{triple, 19, "4:12"},  // y
		{triple, 1000, "5:1"}, // clamped to the end
		{quoted, 0, "6:9"},    // a
		{quoted, 1, "6:10"},   // \t maps to its backslash
		{quoted, 2, "6:12"},   // b
		{quoted, 3, "6:13"},   // the closing quote
	}
	for _, tt := range tests {
		if got := tt.s.PosAt(tt.off).String(); got != tt.want {
			t.Errorf("PosAt(%d) of %q = %s, want %s", tt.off, tt.s.Value, got, tt.want)
		}
	}
}

func ExampleParse() {
	src := []byte("config {\n  workers = 16\n  budget = $2.50\n}\n")
	f, diags := Parse("example.llmp", src)
	if diags.HasErrors() {
		diags.Fprint(os.Stderr, map[string][]byte{"example.llmp": src}, PrintOptions{})
		return
	}
	for _, e := range f.Blocks[0].Body.Entries {
		a := e.(*Attribute)
		fmt.Printf("%s at %s: %T\n", a.Name.Name, a.Value.Range, a.Value.Lit)
	}
	// Output:
	// workers at example.llmp:2:13: *lang.NumberLit
	// budget at example.llmp:3:12: *lang.MoneyLit
}

func ExampleFormat() {
	f, _ := Parse("example.llmp", []byte("source people {\njsonl = \"people.jsonl\"\n    id = item.id\n}\nconfig { workers = 16 }\n"))
	fmt.Print(string(Format(f)))
	// Output:
	// source people {
	//   jsonl = "people.jsonl"
	//   id    = item.id
	// }
	//
	// config {
	//   workers = 16
	// }
}

func ExampleDiagnostics_Fprint() {
	src := []byte("step s {\n  timeout = 5x\n}\n")
	_, diags := Parse("p.llmp", src)
	diags.Fprint(os.Stdout, map[string][]byte{"p.llmp": src}, PrintOptions{})
	// Output:
	// p.llmp:2:13: error: invalid duration "5x"
	//   |
	// 2 |   timeout = 5x
	//   |             ^^
	//   = help: a duration is numbers with units ns, us, ms, s, m or h, every number with a unit: 500ms, 30s, 2m, 1h30m
}
