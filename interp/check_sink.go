package interp

import "github.com/llmpipe/llmpipe/lang"

func (c *checker) lowerSink(d *decl) {
	b := c.readBody(d.block.Body, specs[kindSink], d.block.Name)
	sk := &Sink{Name: d.name, Range: d.block.Range}
	var kindAttr *lang.Attribute
	for _, a := range b.kindAttrs(d.block.Body, kindNames(sinkKindSpecs)) {
		if kindAttr != nil {
			c.errorf(a.Name.Range, "declare a second sink for the other format", "sink %q has both %s and %s", sk.Name, kindAttr.Name.Name, a.Name.Name)
			continue
		}
		kindAttr = a
		if p, ok := c.str(a); ok {
			sk.Kind, sk.Path = a.Name.Name, c.path(p)
		}
	}
	if kindAttr == nil {
		c.errorf(d.block.Name.Range, kindHelp(sinkKindSpecs), "sink %q says nowhere to write", sk.Name)
	}
	sk.Order = OrderCompletion
	if a := b.attrs["order"]; a != nil {
		if v, ok := c.str(a); ok {
			switch v {
			case OrderCompletion, OrderSource:
				sk.Order = v
			default:
				c.errorf(a.Value.Range, didYouMean(v, []string{OrderCompletion, OrderSource}, `write "completion" or "source"`),
					"sink %q has unknown order %q", sk.Name, v)
			}
		}
	}
	ok := true
	if a := b.attrs["from"]; a != nil {
		ok = c.sinkFrom(sk, a)
	}
	if ok && kindAttr != nil && sk.From != nil {
		c.prog.Sinks = append(c.prog.Sinks, sk)
	}
}

// sinkFrom resolves `from = step` or `from = step.failed`.
func (c *checker) sinkFrom(sk *Sink, a *lang.Attribute) bool {
	r, ok := c.ref(a, 2)
	if !ok {
		return false
	}
	head := r.Parts[0]
	d := c.decls[head.Name]
	if d == nil {
		c.errorf(head.Range, didYouMean(head.Name, c.namesOf(kindStep), ""), "unknown step %q", head.Name)
		return false
	}
	if d.kind != kindStep {
		help := "a sink takes a step's records: from = STEP or from = STEP.failed"
		c.errorf(head.Range, help, "sink %q reads from %s %q, but a sink must read from a step", sk.Name, d.kind, head.Name)
		return false
	}
	if len(r.Parts) == 2 {
		part := r.Parts[1]
		if part.Name != "failed" {
			c.errorf(part.Range, didYouMean(part.Name, []string{"failed"}, "write STEP for successes or STEP.failed for failures"),
				"step %q has no output %q", head.Name, part.Name)
			return false
		}
		sk.Failed = true
	}
	if d.step == nil || d.step.step == nil {
		return false // the step has its own errors
	}
	sk.From = d.step.step
	return true
}

// namesOf lists the declared names of one kind, in source order.
func (c *checker) namesOf(kinds ...string) []string {
	var out []string
	for _, d := range c.order {
		if contains(kinds, d.kind) {
			out = append(out, d.name)
		}
	}
	return out
}
