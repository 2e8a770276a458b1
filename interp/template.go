package interp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// Template is a compiled string template: text with {{ expr }} holes,
// {{ if }}…{{ else }}…{{ end }} and {{ for x in list }}…{{ end }}. It is
// immutable and safe for concurrent use.
type Template struct {
	Source string     // the decoded string as written
	Range  lang.Range // the string literal

	nodes []tnode
	canon string // text and canonical holes, for fingerprints
}

type tnode interface{}

type textNode struct{ text string }

type holeNode struct{ e *Expr }

type ifNode struct {
	cond      *Expr
	then, els []tnode
}

type forNode struct {
	name string
	list *Expr
	body []tnode
}

// Render fills the template from env. env is not modified.
func (t *Template) Render(env map[string]any) (string, error) {
	if t == nil {
		return "", nil
	}
	if s, ok, err := renderFlat(t.nodes, env); ok {
		return s, err
	}
	var b strings.Builder
	if err := render(&b, t.nodes, env); err != nil {
		return "", err
	}
	return b.String(), nil
}

// maxFlat is how many text and hole nodes renderFlat takes: their values
// wait in an array on the stack.
const maxFlat = 16

// renderFlat renders a template of text and holes only (most prompts) into
// one allocation, or none when it is a single hole holding a string; ok is
// false for any other template, which render builds. The result is the
// same: holes are evaluated in order, and the first error stops it.
func renderFlat(nodes []tnode, env map[string]any) (_ string, ok bool, _ error) {
	if len(nodes) > maxFlat {
		return "", false, nil
	}
	for _, nd := range nodes {
		switch nd.(type) {
		case textNode, holeNode:
		default:
			return "", false, nil
		}
	}
	var parts [maxFlat]string
	n := 0
	for i, nd := range nodes {
		switch nd := nd.(type) {
		case textNode:
			parts[i] = nd.text
		case holeNode:
			v, err := nd.e.Eval(env)
			if err != nil {
				return "", true, err
			}
			parts[i] = formatValue(v)
		}
		n += len(parts[i])
	}
	if len(nodes) == 1 {
		return parts[0], true, nil
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts[:len(nodes)] {
		b.WriteString(p)
	}
	return b.String(), true, nil
}

func render(b *strings.Builder, nodes []tnode, env map[string]any) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			b.WriteString(n.text)
		case holeNode:
			v, err := n.e.Eval(env)
			if err != nil {
				return err
			}
			b.WriteString(formatValue(v))
		case ifNode:
			ok, err := n.cond.EvalBool(env)
			if err != nil {
				return err
			}
			branch := n.els
			if ok {
				branch = n.then
			}
			if err := render(b, branch, env); err != nil {
				return err
			}
		case forNode:
			v, err := n.list.Eval(env)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
				return fmt.Errorf("evaluating %q: for needs a list, but got %T", n.list.Source, v)
			}
			inner := make(map[string]any, len(env)+1)
			for k, x := range env {
				inner[k] = x
			}
			for i := 0; i < rv.Len(); i++ {
				inner[n.name] = rv.Index(i).Interface()
				if err := render(b, n.body, inner); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// formatValue renders one hole's value: strings as they are, whole numbers
// without exponent, nil as nothing, lists and maps as compact JSON.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case float32:
		return formatFloat(float64(v))
	case json.Number:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// forbidden names a variable that does not exist where a template is used,
// with the help shown when it is referenced.
type forbidden map[string]string

// compileTemplate compiles lit in env. It reports every problem it finds
// and returns nil if there was any.
func compileTemplate(lit *lang.StringLit, env exprEnv, forb forbidden) (*Template, []*lang.Diagnostic) {
	toks, lerr := lexTemplate(lit.Value)
	if lerr != nil {
		return nil, []*lang.Diagnostic{{Severity: lang.SeverityError, Range: rangeIn(lit, lerr.from, lerr.to), Message: lerr.msg, Help: lerr.help}}
	}
	tc := &tcompiler{lit: lit, toks: toks, forb: forb}
	var canon strings.Builder
	nodes := tc.parse(env, &canon, "")
	if len(tc.diags) > 0 {
		return nil, tc.diags
	}
	return &Template{Source: lit.Value, Range: lit.Range, nodes: nodes, canon: canon.String()}, nil
}

type tcompiler struct {
	lit   *lang.StringLit
	toks  []token
	i     int
	depth int  // if and for blocks open around the current token
	stop  bool // nesting went too deep: the rest is not compiled
	forb  forbidden
	diags []*lang.Diagnostic
}

// parse reads nodes until the closing tag of the block it is in (closer is
// "" at top level) and leaves the closing token unconsumed.
func (tc *tcompiler) parse(env exprEnv, canon *strings.Builder, closer string) []tnode {
	var nodes []tnode
	for tc.i < len(tc.toks) {
		tok := tc.toks[tc.i]
		switch tok.kind {
		case tokText:
			tc.i++
			if tok.text != "" {
				nodes = append(nodes, textNode{tok.text})
				canon.WriteString(strconv.Quote(tok.text))
			}
		case tokHole:
			tc.i++
			if e := tc.expr(env, tok, false); e != nil {
				nodes = append(nodes, holeNode{e})
				fmt.Fprintf(canon, "{{%s}}", e.canon)
			}
		case tokIf, tokFor:
			if tc.depth >= lang.MaxNesting {
				// Deeper would only exhaust the stack of the recursion here.
				tc.tooDeep(tok)
				return nodes
			}
			tc.depth++
			nodes = append(nodes, tc.block(env, canon, tok))
			tc.depth--
		case tokElse:
			if closer != "if" {
				tc.errAt(tok.from, tok.to, "\"else\" outside \"if\"", "")
				tc.i++
				continue
			}
			return nodes
		case tokEnd:
			if closer == "" {
				tc.errAt(tok.from, tok.to, "\"end\" without \"if\" or \"for\"", "")
				tc.i++
				continue
			}
			return nodes
		}
	}
	return nodes
}

// block compiles an if or for block whose opening tag is tok (at tc.i).
func (tc *tcompiler) block(env exprEnv, canon *strings.Builder, tok token) tnode {
	tc.i++
	if tok.kind == tokIf {
		return tc.ifRest(env, canon, tok, tok)
	}
	list := tc.expr(env, tok, false)
	elem := types.Type(types.Any)
	if list != nil {
		fmt.Fprintf(canon, "{{for %s in %s}}", tok.text, list.canon)
		var ok bool
		if elem, ok = elemType(list); !ok {
			elem = types.Any // reported once here; the body is still checked
			tc.errAt(tok.exprOff, tok.exprOff+len(tok.expr), fmt.Sprintf("for needs a list, but got %s", list.program.Node().Type()), "")
		}
	}
	body := tc.parse(env.with(tok.text, elem), canon, "for")
	tc.closeBlock(tok, canon)
	return forNode{name: tok.text, list: list, body: body}
}

// ifRest compiles an if (or an else if, whose condition tok holds) after
// its tag: the branch, then {{ else }}, {{ else if … }} or the {{ end }}
// that open (the first if of the chain) needs. An else if is an if inside
// the else branch that shares its end.
func (tc *tcompiler) ifRest(env exprEnv, canon *strings.Builder, tok, open token) ifNode {
	cond := tc.expr(env, tok, true)
	n := ifNode{cond: cond}
	if cond != nil {
		fmt.Fprintf(canon, "{{if %s}}", cond.canon)
	}
	n.then = tc.parse(env, canon, "if")
	if tc.i < len(tc.toks) && tc.toks[tc.i].kind == tokElse {
		el := tc.toks[tc.i]
		tc.i++
		canon.WriteString("{{else}}")
		if el.expr != "" {
			if tc.depth >= lang.MaxNesting {
				tc.tooDeep(el)
				return n
			}
			tc.depth++
			n.els = []tnode{tc.ifRest(env, canon, el, open)}
			tc.depth--
			return n
		}
		n.els = tc.parse(env, canon, "if")
	}
	tc.closeBlock(open, canon)
	return n
}

// tooDeep reports blocks nested beyond lang.MaxNesting at tok and stops
// compiling: one error, not one per enclosing block left unclosed.
func (tc *tcompiler) tooDeep(tok token) {
	tc.errAt(tok.from, tok.to, fmt.Sprintf("template blocks nest more than %d deep", lang.MaxNesting), "flatten the template")
	tc.i, tc.stop = len(tc.toks), true
}

// closeBlock consumes the {{ end }} of the block opened by open.
func (tc *tcompiler) closeBlock(open token, canon *strings.Builder) {
	if tc.stop {
		return
	}
	if tc.i < len(tc.toks) && tc.toks[tc.i].kind == tokEnd {
		tc.i++
		canon.WriteString("{{end}}")
		return
	}
	tc.errAt(open.from, open.to, "block is never closed", "add {{ end }} where it should stop")
}

func (tc *tcompiler) errAt(from, to int, msg, help string) {
	tc.diags = append(tc.diags, &lang.Diagnostic{Severity: lang.SeverityError, Range: rangeIn(tc.lit, from, to), Message: msg, Help: help})
}

func (tc *tcompiler) expr(env exprEnv, tok token, asBool bool) *Expr {
	s := holeSite(tc.lit, tok.exprOff, tok.expr)
	if d := exprLimits(s); d != nil {
		tc.diags = append(tc.diags, d) // before any expr parser sees it
		return nil
	}
	names := make([]string, 0, len(tc.forb))
	for n := range tc.forb {
		if _, shadowed := env.vars[n]; !shadowed {
			names = append(names, n)
		}
	}
	if uses := identUses(tok.expr, names...); len(uses) > 0 {
		for _, id := range uses {
			loc := id.Location()
			tc.diags = append(tc.diags, &lang.Diagnostic{
				Severity: lang.SeverityError,
				Range:    s.runeRange(loc.From, loc.To),
				Message:  fmt.Sprintf("%q is not available here", id.Value),
				Help:     tc.forb[id.Value],
			})
		}
		return nil
	}
	e, d := compile(env, s, asBool)
	if d != nil {
		tc.diags = append(tc.diags, d)
	}
	return e
}

// elemType is the element type of a compiled list expression; ok is false
// when the expression is known not to be a list.
func elemType(e *Expr) (types.Type, bool) {
	n := e.program.Node().Nature()
	if n == nil || n.Type == nil {
		return types.Any, true
	}
	if n.Kind == reflect.Slice || n.Kind == reflect.Array {
		if n.Ref != nil {
			return natureType{*n.Ref}, true
		}
		return types.Any, true
	}
	if n.Kind == reflect.Interface {
		return types.Any, true
	}
	return nil, false
}

// natureType lets a type expr inferred be used again in an environment,
// e.g. the element type of a list as a loop variable's type.
type natureType struct{ n nature.Nature }

func (t natureType) Nature() nature.Nature { return t.n }
func (t natureType) Equal(o types.Type) bool {
	ot, ok := o.(natureType)
	return o == types.Any || ok && ot.n.Type == t.n.Type
}
func (t natureType) String() string { return t.n.String() }
