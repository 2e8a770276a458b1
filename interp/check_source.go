package interp

import (
	"path/filepath"

	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// path resolves a path from the file against the program's directory.
func (c *checker) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.prog.Dir, p)
}

func (c *checker) read(p string) {
	for _, r := range c.prog.Reads {
		if r == p {
			return
		}
	}
	c.prog.Reads = append(c.prog.Reads, p)
}

// itemEnv is what a source's id and where see.
func (c *checker) itemEnv() exprEnv {
	return c.base.with(VarItem, types.Map{types.Extra: types.Any})
}

func (c *checker) lowerSource(d *decl) {
	b := c.readBody(d.block.Body, specs[kindSource], d.block.Name)
	src := &Source{Name: d.name, Range: d.block.Range}
	var kindAttr *lang.Attribute
	for _, a := range b.kindAttrs(d.block.Body, kindNames(sourceKindSpecs)) {
		if kindAttr != nil {
			d := c.errorf(a.Name.Range, "a source reads one file; declare another source for the other", "source %q has both %s and %s", src.Name, kindAttr.Name.Name, a.Name.Name)
			d.Notes = []lang.Note{{Range: kindAttr.Name.Range, Message: kindAttr.Name.Name + " given here"}}
			continue
		}
		kindAttr = a
		if p, ok := c.str(a); ok {
			if p == "" {
				c.errorf(a.Value.Range, "", "empty path")
			}
			src.Kind, src.Path = a.Name.Name, c.path(p)
			c.read(src.Path)
		}
	}
	if kindAttr == nil {
		c.errorf(d.block.Name.Range, kindHelp(sourceKindSpecs), "source %q says nowhere to read from", src.Name)
	}
	if a := b.attrs["id"]; a != nil {
		src.ID = c.attrExpr(a, c.itemEnv(), false, nil)
	}
	if a := b.attrs["where"]; a != nil {
		src.Where = c.attrExpr(a, c.itemEnv(), true, nil)
	}
	if a := b.attrs["limit"]; a != nil {
		src.Limit, _ = c.integer(a, 0)
	}
	d.source = src
	c.prog.Sources = append(c.prog.Sources, src)
}

// attrExpr compiles an attribute written as an expression.
func (c *checker) attrExpr(a *lang.Attribute, env exprEnv, asBool bool, forb forbidden) *Expr {
	s := attrSite(a.Value)
	if d := exprLimits(s); d != nil {
		c.add(d) // before any expr parser sees it
		return nil
	}
	for _, id := range identUses(s.src, keys(forb)...) {
		if _, shadowed := env.vars[id.Value]; shadowed {
			continue
		}
		loc := id.Location()
		c.errorf(s.runeRange(loc.From, loc.To), forb[id.Value], "%q is not available here", id.Value)
		return nil
	}
	e, d := compile(env, s, asBool)
	if d != nil {
		c.add(d)
	}
	return e
}

func keys(m forbidden) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
