package interp

import (
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/lang"
)

// Defaults the language documents.
const (
	defaultAttempts      = 3
	defaultEscalateAfter = 1
	defaultBackoffMin    = time.Second
	defaultBackoffMax    = 30 * time.Second
	defaultTimeout       = 60 * time.Second
	defaultCacheTTL      = time.Hour
)

// stepDecl is a step between resolving its references and compiling its
// expressions, which needs the steps before it.
type stepDecl struct {
	body     *body
	step     *Step
	from     *decl // the step it reads from, if any
	bad      bool  // in or after a cycle: its environment is unknown
	compiled bool
}

// checkSteps resolves every step, rejects cycles, and compiles the steps in
// dependency order into Program.Steps.
func (c *checker) checkSteps() {
	var steps []*decl
	for _, d := range c.order {
		if d.kind == kindStep {
			c.resolveStep(d)
			steps = append(steps, d)
		}
	}
	c.findCycles(steps)
	// Post-order over "reads from" puts every step after its input.
	var visit func(d *decl)
	visit = func(d *decl) {
		sd := d.step
		if sd.compiled || sd.bad {
			return
		}
		sd.compiled = true
		if sd.from != nil {
			visit(sd.from)
			if sd.from.step.bad {
				sd.bad = true
				return
			}
		}
		c.compileStep(d)
		c.prog.Steps = append(c.prog.Steps, sd.step)
	}
	for _, d := range steps {
		visit(d)
	}
}

// resolveStep reads a step's attributes and resolves its references.
func (c *checker) resolveStep(d *decl) {
	b := c.readBody(d.block.Body, specs[kindStep], d.block.Name)
	st := &Step{
		Name:    d.name,
		Range:   d.block.Range,
		Timeout: defaultTimeout,
		Retry: Retry{Attempts: defaultAttempts, EscalateAfter: defaultEscalateAfter,
			BackoffMin: defaultBackoffMin, BackoffMax: defaultBackoffMax},
	}
	sd := &stepDecl{body: b, step: st}
	d.step = sd
	if a := b.attrs["from"]; a != nil {
		c.stepFrom(sd, a)
	}
	if a := b.attrs["models"]; a != nil {
		st.Models = c.stepModels(a)
		for _, m := range st.Models {
			c.useModel(m)
		}
	}
	if a := b.attrs["output"]; a != nil {
		if r, ok := c.ref(a, 1); ok {
			if x := c.lookup(r, "schema", kindSchema); x != nil {
				st.Output = x.schema
			}
		}
	}
	if a := b.attrs["cache"]; a != nil {
		if r, ok := c.ref(a, 1); ok {
			if x := c.lookup(r, "cache", kindCache); x != nil {
				st.Cache = x.cache
				if sys := b.attrs["system"]; sys != nil {
					c.errorf(sys.Name.Range, fmt.Sprintf("move this text into cache %q's system", x.name),
						"a step with a cache cannot also have a system prompt")
				}
			}
		}
	}
	if a := b.attrs["timeout"]; a != nil {
		if v, ok := c.duration(a); ok {
			st.Timeout = v
		}
	}
	if a := b.attrs["batch"]; a != nil {
		st.Batch, _ = c.boolean(a)
	}
	if a := b.attrs["batch_size"]; a != nil {
		st.BatchSize, _ = c.integer(a, 1)
	}
	if a := b.attrs["batch_retries"]; a != nil {
		if v, ok := c.str(a); ok {
			if v != "online" && v != "batch" {
				c.errorf(a.Value.Range, didYouMean(v, []string{"online", "batch"}, `write "online" or "batch"`), "unknown batch_retries %q", v)
			} else {
				st.BatchRetries = v
			}
		}
	}
	if rb := b.blocks[kindRetry]; rb != nil {
		c.lowerRetry(st, rb)
	}
}

// lookup resolves a one-part reference to a declaration of kind.
func (c *checker) lookup(r *lang.RefLit, what, kind string) *decl {
	name := r.Dotted()
	x := c.decls[name]
	if x != nil {
		x.used = true
	}
	if x == nil {
		c.errorf(r.Range, didYouMean(name, c.namesOf(kind), ""), "unknown %s %q", what, name)
		return nil
	}
	if x.kind != kind {
		c.errorf(r.Range, didYouMean(name, c.namesOf(kind), ""), "%q is a %s, not a %s", name, x.kind, what)
		return nil
	}
	return x
}

func (c *checker) stepFrom(sd *stepDecl, a *lang.Attribute) {
	if r, isRef := a.Value.Lit.(*lang.RefLit); isRef && len(r.Parts) == 2 && r.Parts[1].Name == "failed" {
		c.errorf(a.Value.Range, "only sinks read failed records", "a step cannot read from %s", r.Dotted())
		return
	}
	r, ok := c.ref(a, 1)
	if !ok {
		return
	}
	name := r.Dotted()
	x := c.decls[name]
	if x != nil {
		x.used = true
	}
	if x == nil {
		c.errorf(r.Range, didYouMean(name, c.namesOf(kindSource, kindStep), "from names a source or a step"), "unknown source or step %q", name)
		return
	}
	switch x.kind {
	case kindSource:
		sd.step.FromSource = x.source
	case kindStep:
		sd.from = x
	default:
		c.errorf(r.Range, "from names a source or a step", "%q is a %s; a step reads from a source or a step", name, x.kind)
	}
}

// stepModels resolves `models`: a ladder or model name, a model id, or a
// list of names and ids.
func (c *checker) stepModels(a *lang.Attribute) []*Model {
	switch lit := a.Value.Lit.(type) {
	case *lang.StringLit:
		return []*Model{c.plainModel(lit)}
	case *lang.RefLit:
		return c.modelRef(lit, true)
	case *lang.ListLit:
		ms, _ := c.modelList(lit)
		return ms
	}
	c.wrongKind(a, "a ladder, a model or a list of models", "")
	return nil
}

// useModel adds a model to Program.Models once; plain ids share one Model.
func (c *checker) useModel(m *Model) {
	for _, x := range c.prog.Models {
		if x == m {
			return
		}
	}
	c.prog.Models = append(c.prog.Models, m)
}

func (c *checker) lowerRetry(st *Step, rb *lang.Block) {
	b := c.readBody(rb.Body, specs[kindRetry], &rb.Kind)
	r := &st.Retry
	if a := b.attrs["attempts"]; a != nil {
		if v, ok := c.integer(a, 1); ok {
			r.Attempts = v
		}
	}
	if a := b.attrs["escalate_after"]; a != nil {
		if v, ok := c.integer(a, 1); ok {
			r.EscalateAfter = v
		}
	}
	if a := b.attrs["escalate_after"]; a != nil && r.EscalateAfter > r.Attempts {
		c.warnf(a.Value.Range, fmt.Sprintf("lower escalate_after to at most %d, or raise attempts", r.Attempts),
			"escalate_after (%d) is larger than attempts (%d): the ladder never climbs", r.EscalateAfter, r.Attempts)
	}
	if a := b.attrs["backoff"]; a != nil {
		switch lit := a.Value.Lit.(type) {
		case *lang.RangeLit:
			lo, ok1 := c.durValue("backoff", lit.Lo)
			hi, ok2 := c.durValue("backoff", lit.Hi)
			if ok1 && ok2 {
				if lo > hi {
					c.errorf(a.Value.Range, fmt.Sprintf("write %s .. %s", lit.Hi.Raw, lit.Lo.Raw), "backoff starts after it ends")
				} else {
					r.BackoffMin, r.BackoffMax = lo, hi
				}
			}
		case *lang.DurationLit:
			if v, ok := c.durValue("backoff", a.Value); ok {
				r.BackoffMin, r.BackoffMax = v, v
			}
		default:
			c.wrongKind(a, "a range of durations", "write e.g. 1s .. 30s")
		}
	}
}
