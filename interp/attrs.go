package interp

import (
	"fmt"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/lang"
)

// body is a block body sorted by entry type, after checking every attribute
// name against the block's spec.
type body struct {
	attrs  map[string]*lang.Attribute
	blocks map[string]*lang.Block
	checks []*lang.Check
	fields []*lang.Field
}

// readBody checks a body's entries against spec. owner is where a missing
// attribute is reported: the block's name, or its kind for unnamed blocks.
func (c *checker) readBody(b *lang.Body, spec *blockSpec, owner *lang.Ident) *body {
	out := &body{attrs: map[string]*lang.Attribute{}, blocks: map[string]*lang.Block{}}
	if b == nil {
		return out
	}
	// A misspelt required attribute is reported once, as misspelt, not
	// again as missing.
	suggested := map[string]bool{}
	for _, e := range b.Entries {
		switch e := e.(type) {
		case *lang.Attribute:
			if spec.attr(e.Name.Name) == nil {
				help := didYouMean(e.Name.Name, spec.attrNames(), attrList(spec))
				suggested[nearest(e.Name.Name, spec.attrNames())] = true
				if spec.Fields {
					help = "schema fields are written NAME TYPE, without \"=\""
				}
				c.errorf(e.Name.Range, help, "unknown attribute %q in %s", e.Name.Name, spec.Kind)
				continue
			}
			if first, dup := out.attrs[e.Name.Name]; dup {
				d := c.errorf(e.Name.Range, "remove one of them", "attribute %q is set twice", e.Name.Name)
				d.Notes = []lang.Note{{Range: first.Name.Range, Message: "first set here"}}
				continue
			}
			out.attrs[e.Name.Name] = e
		case *lang.Block:
			if !contains(spec.Blocks, e.Kind.Name) {
				help := ""
				if len(spec.Blocks) > 0 {
					help = didYouMean(e.Kind.Name, spec.Blocks, "")
				}
				if _, top := specs[e.Kind.Name]; top && help == "" {
					help = fmt.Sprintf("%s blocks go at the top level", e.Kind.Name)
				}
				c.errorf(e.Kind.Range, help, "unexpected %s block in %s", e.Kind.Name, spec.Kind)
				continue
			}
			if first, dup := out.blocks[e.Kind.Name]; dup {
				d := c.errorf(e.Kind.Range, "merge them into one", "%s block is given twice", e.Kind.Name)
				d.Notes = []lang.Note{{Range: first.Kind.Range, Message: "first given here"}}
				continue
			}
			if e.Name != nil {
				c.errorf(e.Name.Range, fmt.Sprintf("write %s { … }", e.Kind.Name), "%s block takes no name", e.Kind.Name)
				continue
			}
			out.blocks[e.Kind.Name] = e
		case *lang.Check:
			if !spec.Checks {
				c.errorf(e.Range, "checks go inside a step", "unexpected check in %s", spec.Kind)
				continue
			}
			out.checks = append(out.checks, e)
		case *lang.Expect:
			c.errorf(e.Range, "expect lines go inside a test block", "unexpected expect in %s", spec.Kind)
		case *lang.Field:
			if !spec.Fields {
				help := "attributes are written NAME = VALUE"
				if n := nearest(e.Name.Name, spec.attrNames()); n != "" {
					help = fmt.Sprintf("did you mean %q? attributes are written NAME = VALUE", n)
				}
				c.errorf(e.Range, help, "unexpected field %q in %s", e.Name.Name, spec.Kind)
				continue
			}
			out.fields = append(out.fields, e)
		}
	}
	for _, a := range spec.Attrs {
		if a.Required && out.attrs[a.Name] == nil && !suggested[a.Name] {
			c.missing(owner, spec, a)
		}
	}
	return out
}

// missing reports a required attribute that is absent.
func (c *checker) missing(owner *lang.Ident, spec *blockSpec, a attrSpec) {
	help := fmt.Sprintf("add %s = …", a.Name)
	if a.Doc != "" {
		help = fmt.Sprintf("add %s = … (%s)", a.Name, a.Doc)
	}
	if owner.Name == spec.Kind {
		c.errorf(owner.Range, help, "%s has no %s", spec.Kind, a.Name)
		return
	}
	c.errorf(owner.Range, help, "%s %q has no %s", spec.Kind, owner.Name, a.Name)
}

func attrList(spec *blockSpec) string {
	if len(spec.Attrs) == 0 {
		return ""
	}
	return fmt.Sprintf("%s takes %s", spec.Kind, strings.Join(spec.attrNames(), ", "))
}

// kindAttrs returns, in source order, the attributes of b that name a
// format (jsonl, csv, …): a source or sink takes exactly one, and the caller
// reports the others in its own words.
func (b *body) kindAttrs(block *lang.Body, kinds []string) []*lang.Attribute {
	var out []*lang.Attribute
	for _, e := range block.Entries {
		// b.attrs keeps the first of duplicated names, reported by readBody.
		if a, ok := e.(*lang.Attribute); ok && contains(kinds, a.Name.Name) && b.attrs[a.Name.Name] == a {
			out = append(out, a)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// describeLit names what a value is, for "expects X, but got Y" messages.
func describeLit(v *lang.Value) string {
	if v == nil {
		return "nothing"
	}
	switch l := v.Lit.(type) {
	case *lang.StringLit:
		return "a string"
	case *lang.NumberLit:
		if l.IsInt {
			return "an integer"
		}
		return "a number"
	case *lang.DurationLit:
		return "a duration"
	case *lang.MoneyLit:
		return "an amount of money"
	case *lang.RefLit:
		return "the name " + l.Dotted()
	case *lang.ListLit:
		return "a list"
	case *lang.RangeLit:
		return "a range"
	}
	return "an expression"
}

func (c *checker) wrongKind(a *lang.Attribute, want, help string) {
	c.errorf(a.Value.Range, help, "%q expects %s, but got %s", a.Name.Name, want, describeLit(a.Value))
}

// The literal readers below report a wrong kind and return ok=false.

func (c *checker) str(a *lang.Attribute) (string, bool) {
	if s, ok := a.Value.Lit.(*lang.StringLit); ok {
		return s.Value, true
	}
	help := ""
	if r, ok := a.Value.Lit.(*lang.RefLit); ok {
		help = fmt.Sprintf("write it in quotes: %q", r.Dotted())
	}
	c.wrongKind(a, "a string", help)
	return "", false
}

func (c *checker) integer(a *lang.Attribute, lo int) (int, bool) {
	n, ok := a.Value.Lit.(*lang.NumberLit)
	if !ok || !n.IsInt {
		c.wrongKind(a, "an integer", "")
		return 0, false
	}
	if n.Int < int64(lo) || n.Int > 1<<40 {
		c.errorf(a.Value.Range, "", "%q must be at least %d, but is %d", a.Name.Name, lo, n.Int)
		return 0, false
	}
	return int(n.Int), true
}

// boolean reads true or false.
func (c *checker) boolean(a *lang.Attribute) (bool, bool) {
	if r, ok := a.Value.Lit.(*lang.RefLit); ok && len(r.Parts) == 1 {
		switch r.Parts[0].Name {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	c.wrongKind(a, "true or false", "")
	return false, false
}

func (c *checker) number(a *lang.Attribute) (float64, bool) {
	n, ok := a.Value.Lit.(*lang.NumberLit)
	if !ok {
		c.wrongKind(a, "a number", "")
		return 0, false
	}
	if n.IsInt {
		return float64(n.Int), true
	}
	return n.Float, true
}

func (c *checker) duration(a *lang.Attribute) (time.Duration, bool) {
	return c.durValue(a.Name.Name, a.Value)
}

func (c *checker) durValue(name string, v *lang.Value) (time.Duration, bool) {
	d, ok := v.Lit.(*lang.DurationLit)
	if !ok {
		help := "write a duration such as 500ms, 30s or 2m"
		if n, isNum := v.Lit.(*lang.NumberLit); isNum && n.IsInt {
			help = fmt.Sprintf("add a unit: %ss", n.Text)
		}
		c.errorf(v.Range, help, "%q expects a duration, but got %s", name, describeLit(v))
		return 0, false
	}
	if d.Duration <= 0 {
		c.errorf(v.Range, "", "%q must be longer than zero", name)
		return 0, false
	}
	return d.Duration, true
}

func (c *checker) money(a *lang.Attribute) (float64, bool) {
	m, ok := a.Value.Lit.(*lang.MoneyLit)
	if !ok {
		help := "write dollars with a $, e.g. $2.50"
		if n, isNum := a.Value.Lit.(*lang.NumberLit); isNum {
			help = fmt.Sprintf("write $%s", n.Text)
		}
		c.wrongKind(a, "an amount of money", help)
		return 0, false
	}
	if m.Dollars < 0 {
		c.errorf(a.Value.Range, "", "%q must not be negative", a.Name.Name)
		return 0, false
	}
	return m.Dollars, true
}

// ref reads a bare name (parts == 1) or NAME.PART (parts == 2 allowed).
func (c *checker) ref(a *lang.Attribute, maxParts int) (*lang.RefLit, bool) {
	r, ok := a.Value.Lit.(*lang.RefLit)
	if !ok || len(r.Parts) == 0 {
		help := ""
		if s, isStr := a.Value.Lit.(*lang.StringLit); isStr && isName(s.Value) {
			help = fmt.Sprintf("write the name without quotes: %s", s.Value)
		}
		c.wrongKind(a, "a name", help)
		return nil, false
	}
	if len(r.Parts) > maxParts {
		c.errorf(a.Value.Range, "", "%q expects a name, but got %s", a.Name.Name, r.Dotted())
		return nil, false
	}
	return r, true
}

// stringLit reads a template's string literal.
func (c *checker) stringLit(a *lang.Attribute) (*lang.StringLit, bool) {
	if s, ok := a.Value.Lit.(*lang.StringLit); ok {
		return s, true
	}
	c.wrongKind(a, "a string", "templates are strings; put expressions in {{ }} holes")
	return nil, false
}
