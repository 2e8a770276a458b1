package interp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Isolated returns a copy of s that reads its records from src instead of
// its source or the step before it, so that a test can run it on its own.
// Every exported field is copied (by reflection, so a field added to Step
// later is not forgotten); the copy computes its own fingerprint.
func (s *Step) Isolated(src *Source) *Step {
	out := &Step{}
	from, to := reflect.ValueOf(s).Elem(), reflect.ValueOf(out).Elem()
	for i := 0; i < from.NumField(); i++ {
		if from.Type().Field(i).IsExported() {
			to.Field(i).Set(from.Field(i))
		}
	}
	out.FromSource, out.FromStep = src, nil
	return out
}

// Explain says why an expectation that evaluated to false did: the values
// of the operands of the first false part (`output.age = 212`), as lines.
// It is best effort and never fails; env is what the expectation saw.
func (e *Expect) Explain(env map[string]any) []string {
	tree, err := parser.Parse(e.Source)
	if err != nil {
		return nil
	}
	node := falsePart(tree.Node, env)
	var out []string
	seen := map[string]bool{}
	for _, n := range operands(node) {
		src := n.String()
		if seen[src] {
			continue
		}
		seen[src] = true
		v, err := expr.Eval(src, env)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", src, err))
			continue
		}
		out = append(out, src+" = "+Show(v))
	}
	return out
}

// falsePart walks down `a && b` to the first conjunct that is false.
func falsePart(n ast.Node, env map[string]any) ast.Node {
	for {
		b, ok := n.(*ast.BinaryNode)
		if !ok || b.Operator != "&&" && b.Operator != "and" {
			return n
		}
		if v, err := expr.Eval(b.Left.String(), env); err == nil && v == false {
			n = b.Left
			continue
		}
		n = b.Right
	}
}

// operands are the parts of n worth showing: both sides of a comparison,
// or else n itself; literals show themselves and are left out.
func operands(n ast.Node) []ast.Node {
	var cands []ast.Node
	switch n := n.(type) {
	case *ast.BinaryNode:
		cands = []ast.Node{n.Left, n.Right}
	case *ast.UnaryNode:
		cands = []ast.Node{n.Node}
	default:
		cands = []ast.Node{n}
	}
	var out []ast.Node
	for _, c := range cands {
		if !constant(c) {
			out = append(out, c)
		}
	}
	return out
}

// constant reports whether n names nothing (a literal, a list of them):
// its value is already on the page.
func constant(n ast.Node) bool {
	v := &identVisitor{any: true}
	ast.Walk(&n, v)
	return len(v.found) == 0
}

// Show renders a value for a person reading a test failure: strings
// quoted, lists and maps as compact JSON, nil as nil.
func Show(v any) string {
	if v == nil {
		return "nil"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
