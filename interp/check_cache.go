package interp

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/llmpipe/llmpipe/lang"
)

func (c *checker) lowerCache(d *decl) {
	b := c.readBody(d.block.Body, specs[kindCache], d.block.Name)
	ca := &Cache{Name: d.name, Range: d.block.Range, TTL: defaultCacheTTL}
	if a := b.attrs["ttl"]; a != nil {
		if v, ok := c.duration(a); ok {
			ca.TTL = v
		}
	}
	if a := b.attrs["system"]; a != nil {
		if text, ok := c.checkTimeText(a); ok {
			ca.System = text
		}
	}
	d.cache = ca
	c.prog.Caches = append(c.prog.Caches, ca)
}

// checkTimeText reads a string, or evaluates an expression (such as
// file("handbook.md")) once, now, with only the built-in functions in scope.
func (c *checker) checkTimeText(a *lang.Attribute) (string, bool) {
	if s, ok := a.Value.Lit.(*lang.StringLit); ok {
		return s.Value, true
	}
	s := attrSite(a.Value)
	e, d := compile(c.base, s, false)
	if d != nil {
		c.add(d)
		return "", false
	}
	for _, p := range fileArgs(a.Value.Raw) {
		c.read(c.path(p))
	}
	v, err := expr.Run(e.program, map[string]any{})
	if err != nil {
		// A function failed (a missing file, say): report its own words
		// over the whole value, without expr's position or suggestions.
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		c.errorf(a.Value.Range, "", "%s", msg)
		return "", false
	}
	text, ok := v.(string)
	if !ok {
		c.errorf(a.Value.Range, "", "%q expects text, but the expression gave %s", a.Name.Name, formatType(v))
		return "", false
	}
	return text, true
}

func formatType(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

// fileArgs lists the literal arguments of file(...) calls in src, so the
// program can tell a watcher which files it reads.
func fileArgs(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &fileVisitor{}
	ast.Walk(&tree.Node, v)
	return v.paths
}

type fileVisitor struct{ paths []string }

func (v *fileVisitor) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == "file" {
		if s, ok := call.Arguments[0].(*ast.StringNode); ok {
			v.paths = append(v.paths, s.Value)
		}
	}
}
