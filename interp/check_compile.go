package interp

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// Help lines for variables used where they do not exist.
var (
	promptForbidden = forbidden{
		VarOutput:   "output exists only in checks, once the model has answered",
		VarText:     "text exists only in checks, once the model has answered",
		VarFailed:   "failed exists only in retry.feedback",
		VarPassed:   "passed exists only in retry.feedback",
		VarPrevious: "previous exists only in retry.feedback",
		VarAttempt:  "attempt exists only in retry.feedback",
	}
	feedbackForbidden = forbidden{
		VarOutput: "output exists only in checks; feedback sees failed, passed, previous, attempt and model",
		VarText:   "text exists only in checks; in feedback the last raw reply is previous",
	}
)

// feedbackVars are the variables feedback templates see besides the prompt's.
var feedbackVars = types.Map{
	VarFailed:   types.Array(types.Map{"field": types.String, "message": types.String}),
	VarPassed:   types.Array(types.String),
	VarPrevious: types.String,
	VarAttempt:  types.Int,
	VarModel:    types.String,
}

// compileStep compiles a step's expressions and templates against the
// records it will see: the item, its id and the outputs of the steps before.
func (c *checker) compileStep(d *decl) {
	sd := d.step
	st := sd.step
	if sd.from != nil {
		st.FromStep = sd.from.step.step
	}
	env := c.itemIn(c.base.with(VarID, types.String), rootSource(d))
	for x := sd.from; x != nil; x = x.step.from {
		env = x.step.outputIn(env, x.name)
	}
	env.unknown = func(name string) string {
		if x := c.decls[name]; x != nil && x.kind == kindStep {
			return fmt.Sprintf("step %q sees only the steps it reads from, directly or through others; %q is not one of them", st.Name, name)
		}
		return ""
	}
	b := sd.body
	if a := b.attrs["where"]; a != nil {
		st.Where = c.attrExpr(a, env, true, promptForbidden)
	}
	st.System = c.template(b.attrs["system"], env, promptForbidden)
	st.Prompt = c.template(b.attrs["prompt"], env, promptForbidden)

	checkEnv := sd.outputIn(env.with(VarText, types.String), VarOutput)
	for _, ch := range b.checks {
		c.checkRule(st, ch, checkEnv)
	}
	if rb := b.blocks[kindRetry]; rb != nil {
		for _, e := range rb.Body.Entries {
			if a, ok := e.(*lang.Attribute); ok && a.Name.Name == "feedback" {
				fenv := env
				for k, t := range feedbackVars {
					fenv = fenv.with(k, t)
				}
				st.Retry.Feedback = c.template(a, fenv, feedbackForbidden)
				break
			}
		}
	}
}

// rootSource is the source a step's items come from, through the steps it
// reads from; nil when a from along the way did not resolve.
func rootSource(d *decl) *Source {
	for ; d != nil; d = d.step.from {
		if d.step.step.FromSource != nil {
			return d.step.step.FromSource
		}
	}
	return nil
}

// outputIn adds the step's output to env under name: typed by its schema,
// a string without one, and anything at all when its output names a schema
// that does not resolve, which is reported once already (no cascade of
// errors about its fields).
func (sd *stepDecl) outputIn(env exprEnv, name string) exprEnv {
	switch {
	case sd.step.Output != nil:
		return env.withShape(name, sd.step.Output.Type)
	case sd.body != nil && sd.body.attrs["output"] != nil:
		return env.with(name, types.Any)
	}
	return env.with(name, types.String)
}

// stepType is how a step's output looks to the steps after it.
func stepType(st *Step) types.Type {
	if st.Output != nil {
		return exprType(st.Output.Type)
	}
	return types.String
}

func (c *checker) template(a *lang.Attribute, env exprEnv, forb forbidden) *Template {
	if a == nil {
		return nil
	}
	lit, ok := c.stringLit(a)
	if !ok {
		return nil
	}
	t, ds := compileTemplate(lit, env, forb)
	c.add(ds...)
	for _, p := range templateFileArgs(t) {
		c.read(c.path(p))
	}
	return t
}

// templateFileArgs lists literal file(...) arguments in a template's holes.
func templateFileArgs(t *Template) []string {
	if t == nil {
		return nil
	}
	var out []string
	var walk func(ns []tnode)
	walk = func(ns []tnode) {
		for _, n := range ns {
			switch n := n.(type) {
			case holeNode:
				out = append(out, fileArgs(n.e.Source)...)
			case ifNode:
				walk(n.then)
				walk(n.els)
			case forNode:
				walk(n.body)
			}
		}
	}
	walk(t.nodes)
	return out
}

func (c *checker) checkRule(st *Step, ch *lang.Check, env exprEnv) {
	rule := &CheckRule{Range: ch.Range}
	if ch.Message != nil {
		rule.Message = ch.Message.Value
	} else if ch.Expr != nil {
		// Without a message, the check says what it tested.
		rule.Message = strings.Join(strings.Fields(ch.Expr.Raw), " ")
	}
	if ch.Name != nil {
		rule.Field = ch.Name.Name
		if st.Output != nil && !hasField(st.Output.Type, rule.Field) {
			var names []string
			for _, f := range st.Output.Type.Fields {
				names = append(names, f.Name)
			}
			c.errorf(ch.Name.Range, didYouMean(rule.Field, names, "the name after check is the schema field the check is about"),
				"schema %q has no field %q", st.Output.Name, rule.Field)
		}
	}
	if ch.Expr == nil {
		c.errorf(ch.Range, "write check \"message\": EXPRESSION", "check has no expression")
		return
	}
	e, d := compile(env, attrSite(ch.Expr), true)
	if d != nil {
		c.add(d)
		return
	}
	rule.Expr = e
	st.Checks = append(st.Checks, rule)
}

func hasField(t *Type, name string) bool {
	for _, f := range t.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}
