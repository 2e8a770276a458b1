package interp

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"github.com/llmpipe/llmpipe/lang"
)

// TestPathFastMatchesVM holds Eval's shortcut for plain paths (fetchPath)
// to what expr's VM gives for the same program and env, errors included.
func TestPathFastMatchesVM(t *testing.T) {
	vars := types.Map{
		"item": types.Map{"text": types.String, "n": types.Int, "a": types.Map{"b": types.String}},
		"id":   types.String,
		"out":  types.Map{"score": types.Int},
	}
	srcs := map[string]bool{ // source → expected to take the shortcut
		"item.text": true, "id": true, "item.a.b": true, `item["text"]`: true,
		"item?.text": false, "out.score > 0": false, "len(item)": false,
	}
	envs := []map[string]any{
		{"item": map[string]any{"text": "hi", "n": 3, "a": map[string]any{"b": "x"}}, "id": "i1", "out": map[string]any{"score": 2}},
		{"item": map[string]any{}, "out": map[string]any{}},
		{"item": map[string]any{"a": nil}},
		{"item": map[string]any{"a": "not a map"}},
		{"item": nil},
		{"item": "a string"},
		{"item": map[string]int{"text": 1}},
		{},
	}
	for src, fast := range srcs {
		e, d := compile(exprEnv{vars: vars}, site{src: src, pos: func(int) lang.Pos { return lang.Pos{} }}, false)
		if d != nil {
			t.Fatalf("%s: %s", src, d.Message)
		}
		if got := e.path != nil; got != fast {
			t.Errorf("%s: shortcut %v, want %v (bytecode %v)", src, got, fast, e.program.Bytecode)
		}
		for i, env := range envs {
			got, gerr := e.Eval(env)
			want, werr := vm.Run(e.program, env)
			if werr != nil {
				werr = fmt.Errorf("evaluating %q: %w", e.Source, werr)
			}
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("%s, env %d: got %#v, %v; the VM gives %#v, %v", src, i, got, gerr, want, werr)
			}
		}
	}
}
