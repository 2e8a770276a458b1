package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/lang"
)

// mustCheck parses and checks src, failing on any diagnostic.
func mustCheck(t *testing.T, src string) *Program {
	t.Helper()
	f, ds := lang.Parse("p.llmp", []byte(src))
	if ds.HasErrors() {
		t.Fatalf("parse: %v", ds)
	}
	p, ds := Check(f, &Options{Funcs: testFuncs(), Dir: t.TempDir()})
	if len(ds) > 0 {
		t.Fatalf("check: %v", ds)
	}
	return p
}

const pipeA = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
  where = item.text != ""
}

schema Person {
  name  string
  age   int
  email string?
}

step extract {
  from   = people
  models = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
  output = Person
  prompt = "Extract: {{ item.text }}"
  check age "must be plausible": output.age >= 0 && output.age <= 130
  check email "must look like an address": output.email == nil || output.email matches "@"
  retry {
    feedback = "Fix: {{ join(map(failed, #.field), \", \") }}"
  }
}

step greet {
  from   = extract
  where  = extract.age >= 18
  models = "gemini-2.5-flash"
  prompt = "Greet {{ extract.name }} ({{ id }})"
}
`

// The compiled pieces work together the way the runtime will use them.
func TestProgramEndToEnd(t *testing.T) {
	p := mustCheck(t, pipeA)
	if len(p.Steps) != 2 || p.Steps[0].Name != "extract" || p.Steps[1].FromStep != p.Steps[0] {
		t.Fatalf("steps not lowered in order: %s", p.Dump())
	}
	src := p.Sources[0]
	item := map[string]any{"id": "p1", "text": "Ann, 34, ann@example.com"}
	if id, err := src.ID.Eval(map[string]any{VarItem: item}); err != nil || id != "p1" {
		t.Errorf("id = %v, %v", id, err)
	}
	if ok, err := src.Where.EvalBool(map[string]any{VarItem: item}); err != nil || !ok {
		t.Errorf("where = %v, %v", ok, err)
	}
	ex := p.Steps[0]
	env := map[string]any{VarID: "p1", VarItem: item}
	prompt, err := ex.Prompt.Render(env)
	if err != nil || prompt != "Extract: Ann, 34, ann@example.com" {
		t.Errorf("prompt = %q, %v", prompt, err)
	}
	reply, err := ex.Output.ParseReply("```json\n{\"name\": \"Ann\", \"age\": 34}\n```")
	if err != nil {
		t.Fatal(err)
	}
	checkEnv := map[string]any{VarID: "p1", VarItem: item, VarOutput: reply.Value, VarText: "…"}
	for _, c := range ex.Checks {
		ok, err := c.Expr.EvalBool(checkEnv)
		if err != nil || !ok {
			t.Errorf("check %s = %v, %v", c.Field, ok, err)
		}
	}
	reply, _ = ex.Output.ParseReply(`{"name": "Ann", "age": 200}`)
	checkEnv[VarOutput] = reply.Value
	if ok, _ := ex.Checks[0].Expr.EvalBool(checkEnv); ok {
		t.Error("age 200 passed the age check")
	}
	fb, err := ex.Retry.Feedback.Render(map[string]any{VarID: "p1", VarItem: item,
		VarFailed: []map[string]any{{"field": "age", "message": "too old"}, {"field": "name", "message": "x"}},
		VarPassed: []string{}, VarPrevious: "", VarAttempt: 2, VarModel: "gemini-2.5-flash"})
	if err != nil || fb != "Fix: age, name" {
		t.Errorf("feedback = %q, %v", fb, err)
	}
	greet := p.Steps[1]
	env2 := map[string]any{VarID: "p1", VarItem: item, "extract": reply.Value}
	if ok, err := greet.Where.EvalBool(env2); err != nil || !ok {
		t.Errorf("greet where = %v, %v", ok, err)
	}
	if got, _ := greet.Prompt.Render(env2); got != "Greet Ann (p1)" {
		t.Errorf("greet prompt = %q", got)
	}
	if len(p.Models) != 2 {
		t.Errorf("models %d, want 2 (plain ids shared)", len(p.Models))
	}
}

func TestCheckDefaultsAndPaths(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "sys.md"), []byte("be nice"), 0o644))
	src := []byte(`source q {
  lines = "data/q.txt"
}
cache c {
  system = file("sys.md")
}
step s {
  from   = q
  models = "gemini-2.5-flash"
  cache  = c
  prompt = "{{ item.text }}"
}
sink out {
  from  = s
  jsonl = "/abs/out.jsonl"
}
`)
	f, ds := lang.Parse(filepath.Join(dir, "p.llmp"), src)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := Check(f, nil) // no functions: file is unknown
	if !ds.HasErrors() || p != nil || ds[0].Message != `unknown name "file"` {
		t.Fatalf("without funcs: %v", ds)
	}
	p, ds = Check(f, &Options{Funcs: testFuncs()})
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if p.Dir != dir || p.File != filepath.Join(dir, "p.llmp") {
		t.Errorf("dir %q file %q", p.Dir, p.File)
	}
	s := p.Steps[0]
	if s.Timeout != defaultTimeout || s.Retry.Attempts != 3 || s.Retry.EscalateAfter != 1 ||
		s.Retry.BackoffMin != defaultBackoffMin || s.Retry.BackoffMax != defaultBackoffMax || s.Retry.Feedback != nil {
		t.Errorf("defaults not applied: %+v", s.Retry)
	}
	if p.Caches[0].System != "be nice" || p.Caches[0].TTL != defaultCacheTTL {
		t.Errorf("cache %+v", p.Caches[0])
	}
	if p.Config.Tier != 1 || p.Config.Provider != "gemini" || p.Config.Workers != 0 {
		t.Errorf("config %+v", p.Config)
	}
	wantReads := []string{filepath.Join(dir, "data/q.txt"), filepath.Join(dir, "sys.md")}
	if strings.Join(p.Reads, ",") != strings.Join(wantReads, ",") {
		t.Errorf("reads %v, want %v", p.Reads, wantReads)
	}
	if p.Sinks[0].Path != "/abs/out.jsonl" {
		t.Errorf("absolute sink path changed: %q", p.Sinks[0].Path)
	}
}

func TestCheckNilFile(t *testing.T) {
	p, ds := Check(nil, nil)
	if p != nil || !ds.HasErrors() {
		t.Errorf("got %v, %v", p, ds)
	}
}

// Hand-built ASTs with holes the parser never leaves must not crash.
func TestCheckOddAST(t *testing.T) {
	f := &lang.File{Name: "x.llmp", Blocks: []*lang.Block{
		nil,
		{Kind: lang.Ident{Name: "step"}, Name: &lang.Ident{Name: "s"}, Body: &lang.Body{Entries: []lang.Entry{
			&lang.Attribute{Name: lang.Ident{Name: "from"}, Value: &lang.Value{}},
			&lang.Attribute{Name: lang.Ident{Name: "models"}, Value: &lang.Value{Lit: &lang.ListLit{}}},
			&lang.Attribute{Name: lang.Ident{Name: "prompt"}, Value: &lang.Value{Lit: &lang.StringLit{Value: "{{"}}},
			&lang.Check{},
		}}},
		{Kind: lang.Ident{Name: "schema"}, Name: &lang.Ident{Name: "S"}, Body: &lang.Body{Entries: []lang.Entry{
			&lang.Field{Name: lang.Ident{Name: "a"}},
		}}},
		{Kind: lang.Ident{Name: "ladder"}, Name: &lang.Ident{Name: "l"}, Value: &lang.Value{}},
		{Kind: lang.Ident{Name: "config"}},
	}}
	_, ds := Check(f, nil)
	for _, d := range ds {
		if strings.Contains(d.Message, "internal checker error") {
			t.Fatalf("checker panicked: %s", d.Message)
		}
	}
	if !ds.HasErrors() {
		t.Error("no errors for a broken file")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
