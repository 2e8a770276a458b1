package lsp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

const sample = `# people
source people {
  jsonl = "people.jsonl"
}

schema Address {
  city string "the city"
}

schema Person {
  name string "full name"
  age  int?   "age in years"
  home Address
}

ladder cheap = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]

step extract {
  from   = people
  models = cheap
  output = Person
  prompt = "Who is {{ upper(item.text) }}, {{ truncate(item.text, 5) }}?"
  check age "must be positive": output.age == nil || output.age > 0
}

test adult {
  step  = extract
  item  = {id: "t1", text: "Ann Lee, 34"}
  reply = """{"name": "Ann Lee", "age": 34, "home": {"city": "Oslo"}}"""
  expect output.age == 34
}

step judge {
  from   = extract
  models = "gemini-2.5-pro"
  prompt = "Is {{ extract.name }} right?"
}
`

func analyzed(t testing.TB, text string) *analysis {
	t.Helper()
	return analyze(filepath.Join(t.TempDir(), "job.llmp"), text, utf16)
}

func offsetAfter(t testing.TB, text, marker string) int {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("%q not in text", marker)
	}
	return i + len(marker)
}

func labels(items []protocol.CompletionItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Label)
	}
	return out
}

func TestCompletionPlaces(t *testing.T) {
	tests := []struct {
		name   string
		text   string // @ marks the cursor
		has    []string
		hasNot []string
	}{
		{"top level", "sour@", []string{"source", "step", "schema", "test"}, []string{"jsonl"}},
		{"step body", strings.Replace(sample, "  from   = people\n", "  from   = people\n  mo@\n", 1), []string{"models", "prompt", "retry", "check"}, []string{"source"}},
		{"source body", strings.Replace(sample, "  jsonl = \"people.jsonl\"\n", "  jsonl = \"people.jsonl\"\n  w@\n", 1), []string{"where", "id", "limit"}, []string{"models"}},
		{"output fields", strings.Replace(sample, "output.age > 0", "output.@", 1), []string{"name", "age", "home"}, []string{"city"}},
		{"nested fields", strings.Replace(sample, "output.age > 0", "output.home.@", 1), []string{"city"}, []string{"name"}},
		{"earlier step fields", strings.Replace(sample, "{{ extract.name }}", "{{ extract.@ }}", 1), []string{"name", "age"}, nil},
		{"models", strings.Replace(sample, `models = "gemini-2.5-pro"`, `models = "gem@"`, 1), []string{"gemini-2.5-pro", "gemini-2.5-flash", "cheap"}, nil},
		{"from", strings.Replace(sample, "from   = extract", "from   = @", 1), []string{"people", "extract"}, []string{"Person"}},
		{"check scope", strings.Replace(sample, "output.age > 0", "o@", 1), []string{"output", "text", "item", "id", "len", "upper"}, []string{"failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			off := strings.Index(tc.text, "@")
			text := tc.text[:off] + tc.text[off+1:]
			a := analyzed(t, text)
			f := a.file
			if f == nil {
				f = analyzed(t, sample).file // mid-edit: the last good parse
			}
			got := labels(complete(a, f, off))
			for _, w := range tc.has {
				if !slices.Contains(got, w) {
					t.Errorf("missing %q in %v", w, got)
				}
			}
			for _, w := range tc.hasNot {
				if slices.Contains(got, w) {
					t.Errorf("unexpected %q in %v", w, got)
				}
			}
		})
	}
}

func TestHover(t *testing.T) {
	a := analyzed(t, sample)
	tests := []struct{ after, want string }{
		{"output.ag", "`int?`"},
		{"schema Pers", "home Address"},
		{"models = ch", `"gemini-2.5-flash-lite"`},
		{`models = "gemini-2.5-p`, "Tier 1 quota"},
		{"{{ upp", "expr-lang built-in"},
		{"expect output.a", "`int?`"},
		{"{{ truncat", "truncate("},
		{"{{ extract.na", "full name"},
		{"\nste", "one LLM call per item"},
		{"  mod", "a ladder, a model"},
		{"  home Addr", "schema Address"},
	}
	for _, tc := range tests {
		got := hoverText(a, offsetAfter(t, sample, tc.after))
		if !strings.Contains(got, tc.want) {
			t.Errorf("hover after %q = %q, want it to contain %q", tc.after, got, tc.want)
		}
	}
}

func TestReferences(t *testing.T) {
	a := analyzed(t, sample)
	var got []string
	for _, r := range a.index.refsTo("extract") {
		got = append(got, fmt.Sprintf("%s:%d", r.attr, a.lines.rangeOf(r.rng).Start.Line))
	}
	// from = extract, and {{ extract.name }} in judge's prompt.
	// step = extract in the test block, from = extract, and
	// {{ extract.name }} in judge's prompt.
	if len(got) != 3 || got[0] != "step:26" || got[1] != "from:33" || got[2] != "prompt:35" {
		t.Errorf("references to extract = %v", got)
	}
	if refs := a.index.refsTo("Address"); len(refs) != 1 || refs[0].attr != "type" {
		t.Errorf("references to Address = %+v", refs)
	}
}

func TestSemanticTokens(t *testing.T) {
	a := analyzed(t, sample)
	data := encodeTokens(a.lines, collectTokens(a))
	if len(data)%5 != 0 || len(data) == 0 {
		t.Fatalf("token data has %d numbers", len(data))
	}
	// Decode and look up a few tokens by their text.
	seen := map[string]string{}
	line, char := 0, 0
	src := strings.Split(sample, "\n")
	for i := 0; i < len(data); i += 5 {
		if data[i] > 0 {
			line += int(data[i])
			char = 0
		}
		char += int(data[i+1])
		text := string([]rune(src[line])[char : char+int(data[i+2])])
		if _, ok := seen[text]; !ok { // the first occurrence
			seen[text] = tokenTypes[data[i+3]]
		}
	}
	for text, typ := range map[string]string{
		"# people": "comment", "source": "keyword", "Person": "type", "extract": "function",
		"jsonl": "property", `"people.jsonl"`: "string", "upper": "function", "{{": "macro",
		"==": "operator", "nil": "keyword", "0": "number", "age": "property", "expect": "keyword", "34": "number",
	} {
		if seen[text] != typ {
			t.Errorf("token %q is %q, want %q", text, seen[text], typ)
		}
	}
}

func TestDocumentSymbolsTree(t *testing.T) {
	a := analyzed(t, sample)
	var names []string
	for _, b := range a.file.Blocks {
		names = append(names, blockSymbol(a.lines, b).Name)
	}
	if strings.Join(names, " ") != "people Address Person cheap extract adult judge" {
		t.Errorf("symbols = %v", names)
	}
	person := blockSymbol(a.lines, a.file.Blocks[2])
	if len(person.Children) != 3 || *person.Children[1].Detail != "int?" {
		t.Errorf("Person's children = %+v", person.Children)
	}
}

func TestOpenBlocks(t *testing.T) {
	text := "step s {\n  prompt = \"{{ x }} }\"\n  retry {\n    # }\n    "
	got := openBlocks(text, len(text))
	if len(got) != 2 || got[0] != (openBlock{"step", "s"}) || got[1].kind != "retry" {
		t.Errorf("openBlocks = %+v", got)
	}
}

// BenchmarkAnalyze1000Lines is the incremental-work target: a change to a
// 1,000-line file is parsed and checked well under 20 ms.
func BenchmarkAnalyze1000Lines(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(sample)
	for i := 0; strings.Count(sb.String(), "\n") < 1000; i++ {
		fmt.Fprintf(&sb, `
step s%d {
  from   = people
  models = cheap
  output = Person
  prompt = "Item {{ item.text }} number %d"
  check age "must be positive": output.age == nil || output.age > 0
}
`, i, i)
	}
	text := sb.String()
	path := filepath.Join(b.TempDir(), "job.llmp")
	b.ResetTimer()
	for b.Loop() {
		a := analyze(path, text, utf16)
		if a.prog == nil {
			b.Fatal(a.diags)
		}
	}
}

const itemSample = `source people {
  jsonl  = "people.jsonl"
  schema = PersonIn
}

source tickets {
  csv = "tickets.csv"
}

schema PersonIn {
  id   string "the person's id"
  text string "what is known about them"
  meta { origin string }
}

step extract {
  from   = people
  models = "gemini-2.5-flash"
  prompt = "{{ item.text }}"
}

step follow {
  from   = extract
  models = "gemini-2.5-flash"
  prompt = "{{ item.id }} {{ extract }}"
}

step triage {
  from   = tickets
  models = "gemini-2.5-flash"
  prompt = "{{ item.body }}"
}

test t {
  step  = follow
  item  = {id: "t1", text: "Ann", meta: {origin: "web"}}
  extract = "x"
  reply = "ok"
  expect item.id == "t1"
}
`

// TestItemCompletion: after "item." the fields of the item's type are
// offered — the source's schema (also through earlier steps and in test
// blocks), or a csv source's header columns — and hover shows a schema
// field; schema = offers schemas, and a source's schema is a reference.
func TestItemCompletion(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tickets.csv"), []byte("ticket_id, body\nT-1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		from, to    string
		has, hasNot []string
	}{
		{"schema source", "{{ item.text }}", "{{ item.@ }}", []string{"id", "text", "meta"}, []string{"origin", "body"}},
		{"through a step", "{{ item.id }} {{ extract }}", "{{ item.@ }}", []string{"id", "text"}, nil},
		{"nested", "{{ item.text }}", "{{ item.meta.@ }}", []string{"origin"}, []string{"id"}},
		{"csv header", "{{ item.body }}", "{{ item.@ }}", []string{"ticket_id", "body"}, []string{"id"}},
		{"test expect", `expect item.id == "t1"`, "expect item.@", []string{"id", "text"}, nil},
		{"schema attribute", "schema = PersonIn", "schema = @", []string{"PersonIn"}, []string{"people"}},
	}
	good := analyze(filepath.Join(dir, "job.llmp"), itemSample, utf16)
	if len(good.diags) != 0 {
		t.Fatalf("sample does not check: %v", good.diags)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(itemSample, tc.from, tc.to, 1)
			off := strings.Index(text, "@")
			text = text[:off] + text[off+1:]
			a := analyze(filepath.Join(dir, "job.llmp"), text, utf16)
			f := a.file
			if f == nil {
				f = good.file
			}
			got := labels(complete(a, f, off))
			for _, w := range tc.has {
				if !slices.Contains(got, w) {
					t.Errorf("missing %q in %v", w, got)
				}
			}
			for _, w := range tc.hasNot {
				if slices.Contains(got, w) {
					t.Errorf("unexpected %q in %v", w, got)
				}
			}
		})
	}
	if got := hoverText(good, offsetAfter(t, itemSample, "{{ item.te")); !strings.Contains(got, "what is known about them") {
		t.Errorf("hover on item.text = %q, want the schema field's doc", got)
	}
	if refs := good.index.refsTo("PersonIn"); len(refs) != 1 || refs[0].attr != "schema" {
		t.Errorf("references to PersonIn = %+v, want the source's schema attribute", refs)
	}
}
