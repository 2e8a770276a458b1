package interp

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// Names a test block's expectations see, besides item, id and the outputs
// of the steps the tested step reads from.
const (
	TestOutput       = "output"        // the final attempt's parsed output (nil when it did not parse)
	TestText         = "text"          // the final attempt's raw reply
	TestRecord       = "record"        // the final record: {id, item, <step>: <output>, …}
	TestModels       = "models"        // model ids, in attempt order
	TestFailedFields = "failed_fields" // each failure's field, in attempt order
	TestFeedback     = "feedback"      // the feedback texts sent, in order
	TestAttempts     = "attempts"      // [{model, reply, failed, feedback}]
	TestCost         = "cost"          // dollars, every attempt
)

// Attribute names of a test block.
const (
	testStep    = "step"
	testItem    = "item"
	testReply   = "reply"
	testReplies = "replies"
)

// attemptType is the type of one element of attempts.
var attemptType = types.Map{
	"model":    types.String,
	"reply":    types.String,
	"failed":   types.Array(types.Map{"field": types.String, "message": types.String}),
	"feedback": types.String,
}

// checkTests lowers every test block into Program.Tests. It runs after the
// steps are compiled: a test needs its step's types.
func (c *checker) checkTests() {
	for _, d := range c.order {
		if d.kind == kindTest {
			if t := c.lowerTest(d); t != nil {
				c.prog.Tests = append(c.prog.Tests, t)
			}
		}
	}
}

func (c *checker) lowerTest(d *decl) *Test {
	t := &Test{Name: d.name, Range: d.block.Range}
	ok := true
	attrs := map[string]*lang.Attribute{}
	var expects []*lang.Expect
	for _, e := range d.block.Body.Entries {
		switch e := e.(type) {
		case *lang.Attribute:
			if first, dup := attrs[e.Name.Name]; dup {
				n := c.errorf(e.Name.Range, "remove one of them", "attribute %q is set twice", e.Name.Name)
				n.Notes = []lang.Note{{Range: first.Name.Range, Message: "first set here"}}
				ok = false
				continue
			}
			attrs[e.Name.Name] = e
		case *lang.Expect:
			expects = append(expects, e)
		case *lang.Check:
			c.errorf(e.Range, "a test states what must hold with expect EXPRESSION", "unexpected check in test")
			ok = false
		case *lang.Block:
			c.errorf(e.Kind.Range, "", "unexpected %s block in test", e.Kind.Name)
			ok = false
		case *lang.Field:
			c.errorf(e.Range, "attributes are written NAME = VALUE", "unexpected field %q in test", e.Name.Name)
			ok = false
		}
	}

	// step = NAME
	sa := attrs[testStep]
	if sa == nil {
		c.errorf(d.block.Name.Range, "add step = NAME (the step this test runs)", "test %q has no step", d.name)
		return nil
	}
	r, isRef := c.ref(sa, 1)
	if !isRef {
		return nil
	}
	x := c.lookup(r, "step", kindStep)
	if x == nil {
		return nil
	}
	if x.step.bad || !x.step.compiled || x.step.step.Prompt == nil {
		return nil // the step has its own errors; the test adds none
	}
	t.Step = x.step.step

	// The steps the tested step reads from, nearest first.
	var ups []*decl
	for u := x.step.from; u != nil; u = u.step.from {
		ups = append(ups, u)
	}
	known := []string{testStep, testItem, testReply, testReplies}
	for _, u := range ups {
		known = append(known, u.name)
	}
	for name, a := range attrs {
		if !contains(known, name) {
			help := didYouMean(name, known, "a test takes step, item, reply or replies, and the outputs of the steps its step reads from")
			if y := c.decls[name]; y != nil && y.kind == kindStep {
				help = fmt.Sprintf("step %q does not read from %q, so its output is not needed", t.Step.Name, name)
			}
			c.errorf(a.Name.Range, help, "unknown attribute %q in test", name)
			ok = false
		}
	}

	// item = {…}
	if a := attrs[testItem]; a != nil {
		m, good := c.constMap(a)
		if src := rootSource(x); good && src != nil && src.Item != nil {
			m, good = c.fitTestItem(a, m, src)
		}
		if good {
			t.Item = m
		} else {
			ok = false
		}
	} else {
		c.errorf(d.block.Name.Range, `add item = {id: "t1", text: "…"} (the source record the step sees)`, "test %q has no item", d.name)
		ok = false
	}

	// Earlier steps' outputs, typed through their schemas.
	t.Upstream = map[string]any{}
	for _, u := range ups {
		a := attrs[u.name]
		if a == nil {
			c.errorf(d.block.Name.Range, fmt.Sprintf("add %s = … (what step %q gave for this item)", u.name, u.name),
				"test %q needs the output of step %q, which step %q reads from", d.name, u.name, t.Step.Name)
			ok = false
			continue
		}
		v, good := c.upstreamValue(a, u.step.step)
		if !good {
			ok = false
			continue
		}
		t.Upstream[u.name] = v
	}

	// reply = "…" or replies = ["…", …]
	reply, replies := attrs[testReply], attrs[testReplies]
	switch {
	case reply != nil && replies != nil:
		c.errorf(replies.Name.Range, "keep one of them", "a test takes reply or replies, not both")
		ok = false
	case reply != nil:
		if s, good := c.str(reply); good {
			t.Replies = []string{s}
		} else {
			ok = false
		}
	case replies != nil:
		l, isList := replies.Value.Lit.(*lang.ListLit)
		if !isList {
			c.wrongKind(replies, "a list of strings", `write replies = ["…", "…"]`)
			ok = false
			break
		}
		for _, e := range l.Elems {
			s, isStr := e.Lit.(*lang.StringLit)
			if !isStr {
				c.errorf(e.Range, `write each reply as a string; """…""" holds JSON as written`, "a reply must be a string")
				ok = false
				continue
			}
			t.Replies = append(t.Replies, s.Value)
		}
	default:
		c.errorf(d.block.Name.Range, `add reply = """…""" (the model's answer) or replies = [ … ] (one per attempt)`, "test %q has no reply", d.name)
		ok = false
	}

	env := c.testEnv(x, ups)
	for _, e := range expects {
		ex, dg := compile(env, attrSite(e.Expr), true)
		if dg != nil {
			c.add(dg)
			ok = false
			continue
		}
		t.Expects = append(t.Expects, &Expect{Source: e.Expr.Raw, Range: e.Range, Expr: ex})
	}
	if !ok {
		return nil
	}
	return t
}

// testEnv is what a test's expectations see.
func (c *checker) testEnv(x *decl, ups []*decl) exprEnv {
	st := x.step.step
	src := rootSource(x)
	env := c.itemIn(c.base.with(VarID, types.String), src)
	record := types.Map{VarID: types.String, VarItem: c.itemType(src)}
	for _, u := range ups {
		env = u.step.outputIn(env, u.name)
		record[u.name] = stepType(u.step.step)
	}
	out := stepType(st)
	record[st.Name] = out
	if st.Output != nil {
		env = env.withShape(TestOutput, st.Output.Type)
	} else {
		env = env.with(TestOutput, out)
	}
	env = env.with(TestText, types.String).
		with(TestRecord, record).
		with(TestModels, types.Array(types.String)).
		with(TestFailedFields, types.Array(types.String)).
		with(TestFeedback, types.Array(types.String)).
		with(TestAttempts, types.Array(attemptType)).
		with(TestCost, types.Float64)
	return env
}

// namesFirst are listed first, in this order, when a help line lists the
// names in scope: the names particular to where the expression is.
var namesFirst = []string{VarFailed, VarPassed, VarPrevious, VarAttempt, VarModel, VarOutput, VarText,
	TestRecord, TestModels, TestFailedFields, TestFeedback, TestAttempts, TestCost, VarItem, VarID}

// joinNames lists the variables of env for a help line: those particular
// to the place first, then the others (earlier steps) sorted.
func joinNames(env exprEnv) string {
	var names, rest []string
	for _, n := range namesFirst {
		if _, ok := env.vars[n]; ok {
			names = append(names, n)
		}
	}
	for k := range env.vars {
		if !contains(namesFirst, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// constValue evaluates an attribute written as a constant expression
// (a map, a list, a string…) at check time.
func (c *checker) constValue(a *lang.Attribute) (any, bool) {
	e, d := compile(c.base, attrSite(a.Value), false)
	if d != nil {
		c.add(d)
		return nil, false
	}
	v, err := e.Eval(map[string]any{})
	if err != nil {
		c.errorf(a.Value.Range, "", "%s", err)
		return nil, false
	}
	return v, true
}

func (c *checker) constMap(a *lang.Attribute) (map[string]any, bool) {
	v, ok := c.constValue(a)
	if !ok {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		c.errorf(a.Value.Range, `write a map: {id: "t1", text: "…"}`, "%q expects a map, but got %s", a.Name.Name, describeLit(a.Value))
		return nil, false
	}
	return m, true
}

// fitTestItem holds a test's item to the type of its step's items, which
// the source's schema or csv header gives: a key that is no field is an
// error in the words of item.nmae in an expression, and the fields must fit
// as the source would make them fit (a missing column, an age that is not
// an integer). It returns the item as the source would give it.
func (c *checker) fitTestItem(a *lang.Attribute, m map[string]any, src *Source) (map[string]any, bool) {
	s := attrSite(a.Value)
	pairs := mapPairs(s)
	fields := fieldNames(exprType(src.Item))
	var unknown []string
	for k := range m {
		if !contains(fields, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Slice(unknown, func(i, j int) bool {
		pi, pj := pairs[unknown[i]], pairs[unknown[j]]
		if pi.key.Start.Offset != pj.key.Start.Offset {
			return pi.key.Start.Offset < pj.key.Start.Offset
		}
		return unknown[i] < unknown[j]
	})
	for _, k := range unknown {
		rng := a.Value.Range
		if p, found := pairs[k]; found {
			rng = p.key
		}
		c.errorf(rng, fieldHelp(VarItem, k, fields), "%s", noField(VarItem, k))
	}
	if len(unknown) > 0 {
		return nil, false
	}
	out, err := fitItem(src.Item, m)
	if err == nil {
		return out, true
	}
	var fe *FitError
	if !errors.As(err, &fe) {
		c.errorf(a.Value.Range, "", "%v", err)
		return nil, false
	}
	var what string
	if src.Schema != nil {
		what = fmt.Sprintf("schema %q", src.Schema.Name)
	} else {
		what = fmt.Sprintf("the header of %q", c.relPath(src.Path))
	}
	rng, help := a.Value.Range, ""
	if p, found := pairs[fe.Field]; found {
		rng = p.value
	}
	if fe.Missing {
		help = fmt.Sprintf("add %s: … to the item", fe.Field)
	}
	c.errorf(rng, help, "item does not fit %s: %s", what, fe.Message)
	return nil, false
}

// pairRange is where one key of a map literal and its value are.
type pairRange struct{ key, value lang.Range }

// mapPairs finds the keys of a map literal and their values in the file.
// A value that is not a plain literal is placed at its key: expr locates
// composite nodes by their operator, not their extent.
func mapPairs(s site) map[string]pairRange {
	tree, err := parser.Parse(s.src)
	if err != nil {
		return nil
	}
	mn, isMap := tree.Node.(*ast.MapNode)
	if !isMap {
		return nil
	}
	out := map[string]pairRange{}
	for _, n := range mn.Pairs {
		p, isPair := n.(*ast.PairNode)
		if !isPair {
			continue
		}
		k, isStr := p.Key.(*ast.StringNode)
		if !isStr {
			continue
		}
		kl := k.Location()
		pr := pairRange{key: s.runeRange(kl.From, kl.To)}
		pr.value = pr.key
		switch p.Value.(type) {
		case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
			vl := p.Value.Location()
			pr.value = s.runeRange(vl.From, vl.To)
		}
		out[k.Value] = pr
	}
	return out
}

// relPath is a path as the user would write it: relative to the pipeline.
func (c *checker) relPath(p string) string {
	if r, err := filepath.Rel(c.prog.Dir, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// upstreamValue reads what an earlier step gave, typed as that step's
// output would be (its schema parses it, so ints are ints).
func (c *checker) upstreamValue(a *lang.Attribute, st *Step) (any, bool) {
	v, ok := c.constValue(a)
	if !ok {
		return nil, false
	}
	if st.Output == nil {
		s, isStr := v.(string)
		if !isStr {
			c.errorf(a.Value.Range, fmt.Sprintf("step %q has no output schema, so its output is its reply text", st.Name), "%q expects a string", a.Name.Name)
			return nil, false
		}
		return s, true
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.errorf(a.Value.Range, "", "%q: %v", a.Name.Name, err)
		return nil, false
	}
	reply, err := st.Output.ParseReply(string(b))
	if err != nil {
		c.errorf(a.Value.Range, "", "%q does not fit schema %q: %v", a.Name.Name, st.Output.Name, err)
		return nil, false
	}
	if len(reply.Failed) > 0 {
		f := reply.Failed[0]
		c.errorf(a.Value.Range, "", "%q does not fit schema %q: %s: %s", a.Name.Name, st.Output.Name, f.Field, f.Message)
		return nil, false
	}
	return reply.Value, true
}
