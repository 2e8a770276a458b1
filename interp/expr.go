package interp

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"github.com/llmpipe/llmpipe/lang"
)

// Expr is a compiled expr-lang expression. It is immutable and safe for
// concurrent use: each Eval borrows a VM of its own from a pool.
type Expr struct {
	Source string     // the expression as written
	Range  lang.Range // where it is in the file

	program *vm.Program
	canon   string // the parsed expression printed back, for fingerprints
	// path is set when the program only reads a variable and fetches
	// constant keys from it (item.text, item.meta.lang): see fetchPath.
	path []string
}

// Eval runs the expression against env.
func (e *Expr) Eval(env map[string]any) (any, error) {
	if e == nil || e.program == nil {
		return nil, errors.New("expression was not compiled")
	}
	if e.path != nil {
		if v, ok := fetchPath(env, e.path); ok {
			return v, nil
		}
	}
	// A VM is reusable but not shareable; pooling them saves the stack
	// allocations expr.Run makes per call, on the per-item hot path.
	m := vmPool.Get().(*vm.VM)
	v, err := m.Run(e.program, env)
	vmPool.Put(m)
	if err != nil {
		return nil, fmt.Errorf("evaluating %q: %w", e.Source, err)
	}
	return v, nil
}

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// fetchPath runs a path program (see pathOf) without the VM: expr fetches
// a map key through reflect, which costs an allocation per key, and the
// ids and prompt holes of every item are such paths. It gives up (ok
// false) on anything but a map[string]any along the way, so that the VM
// runs the program and reports what it reports; on maps both give the
// key's value, or nil when it is missing.
func fetchPath(env map[string]any, path []string) (v any, ok bool) {
	v = env[path[0]]
	for _, k := range path[1:] {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		v = m[k]
	}
	return v, true
}

// pathOf returns the keys a program reads when its bytecode is exactly a
// variable load from a map environment followed by fetches of constant
// string keys (OpLoadFast, then OpPush + OpFetch pairs); nil otherwise.
// Reading the compiled program, not the source, keeps fetchPath to what
// the VM would do.
func pathOf(p *vm.Program) []string {
	code := p.Bytecode
	if len(code) == 0 || len(code)%2 == 0 || len(code) > 2*maxPathKeys+1 || len(p.Arguments) != len(code) {
		return nil
	}
	key := func(i int) (string, bool) {
		a := p.Arguments[i]
		if a < 0 || a >= len(p.Constants) {
			return "", false
		}
		s, ok := p.Constants[a].(string)
		return s, ok
	}
	if code[0] != vm.OpLoadFast {
		return nil
	}
	root, ok := key(0)
	if !ok {
		return nil
	}
	path := []string{root}
	for i := 1; i < len(code); i += 2 {
		if code[i] != vm.OpPush || code[i+1] != vm.OpFetch {
			return nil
		}
		k, ok := key(i)
		if !ok {
			return nil
		}
		path = append(path, k)
	}
	return path
}

// maxPathKeys bounds the paths pathOf takes (a.b.c.d…); longer ones run
// in the VM.
const maxPathKeys = 8

// EvalBool runs a boolean expression; a nil or non-bool result is an error.
func (e *Expr) EvalBool(env map[string]any) (bool, error) {
	v, err := e.Eval(env)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("evaluating %q: expected bool, but got %T", e.Source, v)
	}
	return b, nil
}

// site says where an expression's text lies in the file, so that expr's
// rune offsets can be turned into file ranges.
type site struct {
	src string
	rng lang.Range             // the whole expression
	pos func(off int) lang.Pos // byte offset in src -> file position
}

// attrSite is the site of an expression written directly as a value.
func attrSite(v *lang.Value) site {
	start := v.Range.Start
	return site{src: v.Raw, rng: v.Range, pos: func(off int) lang.Pos { return advance(start, v.Raw[:off]) }}
}

// holeSite is the site of an expression inside a string literal, starting
// at decoded byte offset base.
func holeSite(s *lang.StringLit, base int, src string) site {
	return site{
		src: src,
		rng: rangeIn(s, base, base+len(src)),
		pos: func(off int) lang.Pos { return litPos(s, base+off) },
	}
}

// runeRange is the file range of src's runes [from, to).
func (s site) runeRange(from, to int) lang.Range {
	if to <= from {
		to = from + 1
	}
	a, b := runeOffset(s.src, from), runeOffset(s.src, to)
	if a >= len(s.src) && len(s.src) > 0 {
		// expr points just past the end for "unexpected end"; show the last rune
		a = len(s.src) - 1
		b = len(s.src)
	}
	return lang.Range{File: s.rng.File, Start: s.pos(a), End: s.pos(b)}
}

// exprEnv is the typed environment an expression is compiled against.
type exprEnv struct {
	vars  types.Map
	funcs []expr.Option
	names []string // function names, for suggestions
	// unknown, if set, explains a name that is not in scope (e.g. a step
	// that runs later); "" when it has nothing to say.
	unknown func(name string) string
	// memo, shared by every environment of one Check, holds compiled
	// expressions by environment and text: a file that repeats a hole
	// compiles it once.
	memo map[memoKey]memoEntry
	// shapes are the schema types of variables that hold structured
	// outputs (output, earlier steps), for checks expr's types cannot
	// express, such as comparing an enum field with a value outside it.
	shapes map[string]*Type
	// warn, when set, receives warnings about an expression that compiled.
	warn func(*lang.Diagnostic)
}

// textOps are the operators that fail on nil: a nullable field needs a
// nil guard before them.
var textOps = map[string]bool{"matches": true, "contains": true, "startsWith": true, "endsWith": true}

// nilUnguarded warns about `FIELD matches …` (or contains, startsWith,
// endsWith) where FIELD is optional and the expression never compares it
// with nil: on a reply without the field the check cannot be evaluated.
func nilUnguarded(env exprEnv, s site) {
	if env.warn == nil || len(env.shapes) == 0 {
		return
	}
	hit := false
	for op := range textOps {
		if strings.Contains(s.src, op) {
			hit = true
		}
	}
	if !hit {
		return
	}
	tree, err := parser.Parse(s.src)
	if err != nil {
		return
	}
	v := &nilVisitor{env: env, guarded: map[string]bool{}}
	ast.Walk(&tree.Node, v)
	for _, u := range v.uses {
		if v.guarded[u.path] {
			continue
		}
		loc := u.node.Location()
		env.warn(&lang.Diagnostic{Severity: lang.SeverityWarning, Range: s.runeRange(loc.From, loc.To),
			Message: fmt.Sprintf("%s is optional, and %s fails on nil", u.path, u.op),
			Help:    fmt.Sprintf("guard it: %s == nil || …", u.path)})
		return
	}
}

type nilUse struct {
	node ast.Node
	path string
	op   string
}

type nilVisitor struct {
	env     exprEnv
	uses    []nilUse
	guarded map[string]bool
}

func (v *nilVisitor) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok {
		return
	}
	if b.Operator == "==" || b.Operator == "!=" {
		for _, pair := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
			if _, isNil := pair[1].(*ast.NilNode); isNil {
				if _, path, ok := fieldOf(v.env, pair[0]); ok {
					v.guarded[path] = true
				}
			}
		}
		return
	}
	if textOps[b.Operator] {
		if f, path, ok := fieldOf(v.env, b.Left); ok && f.Optional {
			v.uses = append(v.uses, nilUse{node: b.Left, path: path, op: b.Operator})
		}
	}
}

// fieldOf resolves a.b.c to the schema field c, when a is a shaped variable.
func fieldOf(env exprEnv, n ast.Node) (*Field, string, bool) {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return nil, "", false
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return nil, "", false
	}
	t, path := shapeOf(env, m.Node)
	if t == nil || t.Kind != KindObject {
		return nil, "", false
	}
	for _, f := range t.Fields {
		if f.Name == prop.Value {
			return f, path + "." + prop.Value, true
		}
	}
	return nil, "", false
}

// withShape is with(name, t) remembering the schema type t came from.
func (env exprEnv) withShape(name string, t *Type) exprEnv {
	env = env.with(name, exprType(t))
	m := make(map[string]*Type, len(env.shapes)+1)
	for k, v := range env.shapes {
		m[k] = v
	}
	m[name] = t
	env.shapes = m
	return env
}

// enumMisuse finds `FIELD == "value"` (or !=) where FIELD is an enum and
// the value is not one of its values: always false (or true), a typo.
func enumMisuse(env exprEnv, s site) *lang.Diagnostic {
	if len(env.shapes) == 0 {
		return nil
	}
	tree, err := parser.Parse(s.src)
	if err != nil {
		return nil
	}
	v := &enumVisitor{env: env}
	ast.Walk(&tree.Node, v)
	if v.str == nil {
		return nil
	}
	loc := v.str.Location()
	quoted := quoteEach(v.enum.Enum)
	return &lang.Diagnostic{Severity: lang.SeverityError, Range: s.runeRange(loc.From, loc.To),
		Message: fmt.Sprintf("%s is never %q: its values are %s", v.path, v.str.Value, strings.Join(quoted, ", ")),
		Help:    didYouMean(v.str.Value, v.enum.Enum, "compare with one of the enum's values")}
}

type enumVisitor struct {
	env  exprEnv
	str  *ast.StringNode // the first value outside its enum
	enum *Type
	path string
}

func (v *enumVisitor) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok || v.str != nil || b.Operator != "==" && b.Operator != "!=" {
		return
	}
	for _, pair := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
		str, ok := pair[1].(*ast.StringNode)
		if !ok {
			continue
		}
		t, path := shapeOf(v.env, pair[0])
		if t != nil && t.Kind == KindEnum && !contains(t.Enum, str.Value) {
			v.str, v.enum, v.path = str, t, path
			return
		}
	}
}

// shapeOf resolves a.b.c to its schema type, when a is a shaped variable.
func shapeOf(env exprEnv, n ast.Node) (*Type, string) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return env.shapes[n.Value], n.Value
	case *ast.MemberNode:
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return nil, ""
		}
		t, path := shapeOf(env, n.Node)
		if t == nil || t.Kind != KindObject {
			return nil, ""
		}
		for _, f := range t.Fields {
			if f.Name == prop.Value {
				return f.Type, path + "." + prop.Value
			}
		}
	}
	return nil, ""
}

// memoEntry keeps the environment's map alive with the expression, so
// that its address (the key) cannot be reused by another map.
type memoEntry struct {
	vars types.Map
	e    *Expr
}

type memoKey struct {
	vars   uintptr // identity of the environment's variable map
	src    string
	asBool bool
}

func (env exprEnv) with(name string, t types.Type) exprEnv {
	m := make(types.Map, len(env.vars)+1)
	for k, v := range env.vars {
		m[k] = v
	}
	m[name] = t
	env.vars = m
	return env
}

// compile compiles src in env. On failure it returns one diagnostic at the
// position expr reported, or over the whole expression when expr gave none.
func compile(env exprEnv, s site, asBool bool) (*Expr, *lang.Diagnostic) {
	opts := []expr.Option{expr.Env(env.vars)}
	opts = append(opts, env.funcs...)
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	if strings.TrimSpace(s.src) == "" {
		return nil, &lang.Diagnostic{Severity: lang.SeverityError, Range: s.rng, Message: "empty expression"}
	}
	if d := exprLimits(s); d != nil {
		return nil, d
	}
	nilUnguarded(env, s)
	key := memoKey{vars: reflect.ValueOf(env.vars).Pointer(), src: s.src, asBool: asBool}
	if m, ok := env.memo[key]; ok {
		return &Expr{Source: s.src, Range: s.rng, program: m.e.program, canon: m.e.canon, path: m.e.path}, nil
	}
	prog, err := expr.Compile(s.src, opts...)
	if err != nil {
		return nil, exprDiag(env, s, err)
	}
	if d := enumMisuse(env, s); d != nil {
		return nil, d
	}
	e := &Expr{Source: s.src, Range: s.rng, program: prog, canon: canonical(s.src), path: pathOf(prog)}
	if env.memo != nil {
		env.memo[key] = memoEntry{vars: env.vars, e: e}
	}
	return e, nil
}

// maxExprBytes bounds the text of one expression handed to expr.
const maxExprBytes = 256 << 10

// exprLimits refuses an expression too large or too deeply bracketed for
// expr's recursive parser, which would run out of stack (500,000 "(" in a
// where) long before it reported anything. Brackets inside quotes do not
// count.
func exprLimits(s site) *lang.Diagnostic {
	if len(s.src) > maxExprBytes {
		return &lang.Diagnostic{Severity: lang.SeverityError, Range: s.rng,
			Message: fmt.Sprintf("expression is %d bytes long; the limit is %d", len(s.src), maxExprBytes),
			Help:    "move large text into a file and read it with file(...)"}
	}
	depth := 0
	var quote byte
	for i := 0; i < len(s.src); i++ {
		c := s.src[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > lang.MaxNesting {
				r := utf8.RuneCountInString(s.src[:i])
				return &lang.Diagnostic{Severity: lang.SeverityError, Range: s.runeRange(r, r+1),
					Message: fmt.Sprintf("brackets nest more than %d deep", lang.MaxNesting),
					Help:    "split the expression, or name its parts with let"}
			}
		case c == ')' || c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// exprDiag turns a compile error into a diagnostic at the right place.
func exprDiag(env exprEnv, s site, err error) *lang.Diagnostic {
	d := &lang.Diagnostic{Severity: lang.SeverityError, Range: s.rng, Message: err.Error()}
	var fe *file.Error
	if errors.As(err, &fe) {
		d.Message = fe.Message
		if fe.Line > 0 {
			d.Range = s.runeRange(fe.From, fe.To)
			d.Help = suggestIn(env, s, fe.From, fe.To)
			if msg := unknownName(env, s, fe.From, fe.To); msg != "" {
				d.Message = msg
			}
		}
	}
	return d
}

// suggestIn proposes a near name for the word at runes [from, to) of the
// expression: a field of the map it is selected from after a dot, otherwise
// a variable or function.
func suggestIn(env exprEnv, s site, from, to int) string {
	runes := []rune(s.src)
	if from < 0 || to > len(runes) || from >= to {
		return ""
	}
	word := string(runes[from:to])
	if !isName(word) {
		return ""
	}
	var cands []string
	if from > 0 && runes[from-1] == '.' {
		// Walk the dotted path before the word through the typed env.
		i := from - 1
		for i > 0 && (isNameRune(runes[i-1]) || runes[i-1] == '.') {
			i--
		}
		path := strings.Split(string(runes[i:from-1]), ".")
		var t types.Type = env.vars
		for _, p := range path {
			var ok bool
			if t, ok = member(t, p); !ok {
				return ""
			}
		}
		if len(path) == 1 && path[0] == VarOutput && t == types.String {
			return "this step has no output schema, so output is its reply text; add output = SCHEMA for JSON fields"
		}
		return fieldHelp(strings.Join(path, "."), word, fieldNames(t))
	}
	for k := range env.vars {
		cands = append(cands, k)
	}
	cands = append(cands, env.names...)
	cands = append(cands, exprBuiltins...)
	if best := nearest(word, cands); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if env.unknown != nil {
		if h := env.unknown(word); h != "" {
			return h
		}
	}
	if _, known := env.vars[word]; known || contains(env.names, word) || contains(exprBuiltins, word) {
		return ""
	}
	return "names here: " + joinNames(env)
}

// unknownName words an unknown variable or field in our own terms, with
// the name quoted: `output has no field "agee"`. It decides from the typed
// environment, not from expr's message, and only for text that parses, so a
// syntax error at a name is never mistaken for an unknown one.
func unknownName(env exprEnv, s site, from, to int) string {
	runes := []rune(s.src)
	if from < 0 || to > len(runes) || from >= to {
		return ""
	}
	word := string(runes[from:to])
	if !isName(word) {
		return ""
	}
	if _, err := parser.Parse(s.src); err != nil {
		return ""
	}
	if from > 0 && runes[from-1] == '.' {
		i := from - 1
		for i > 0 && (isNameRune(runes[i-1]) || runes[i-1] == '.') {
			i--
		}
		path := string(runes[i : from-1])
		var t types.Type = env.vars
		for _, p := range strings.Split(path, ".") {
			var ok bool
			if t, ok = member(t, p); !ok {
				return ""
			}
		}
		if fields := fieldNames(t); len(fields) > 0 && !contains(fields, word) && !hasExtra(t) {
			return noField(path, word)
		}
		return ""
	}
	if _, ok := env.vars[word]; ok || contains(env.names, word) || contains(exprBuiltins, word) {
		return ""
	}
	return fmt.Sprintf("unknown name %q", word)
}

// noField is the one wording of a field a typed value does not have, for
// expressions (output.agee, item.nmae) and for values written out (a
// test's item = {nmae: …}); its help is didYouMean over the fields.
func noField(path, word string) string {
	return fmt.Sprintf("%s has no field %q", path, word)
}

// fieldHelp is the help for a field that path does not have: the nearest
// field, or else the fields it has.
func fieldHelp(path, word string, fields []string) string {
	if best := nearest(word, fields); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if len(fields) == 0 {
		return ""
	}
	fields = slices.Clone(fields)
	sort.Strings(fields)
	return "fields of " + path + ": " + strings.Join(fields, ", ")
}

func hasExtra(t types.Type) bool {
	m, ok := t.(types.Map)
	return ok && m[types.Extra] != nil
}

// member is the type of field name of t, for strict maps.
func member(t types.Type, name string) (types.Type, bool) {
	switch t := t.(type) {
	case types.Map:
		m, ok := t[name]
		return m, ok
	case natureType:
		if t.n.TypeData != nil && t.n.Fields != nil {
			if f, ok := t.n.Fields[name]; ok {
				return natureType{f}, true
			}
		}
	}
	return nil, false
}

// fieldNames lists the known fields of a map type.
func fieldNames(t types.Type) []string {
	var out []string
	switch t := t.(type) {
	case types.Map:
		for k := range t {
			if k != types.Extra {
				out = append(out, k)
			}
		}
	case natureType:
		if t.n.TypeData != nil {
			for k := range t.n.Fields {
				out = append(out, k)
			}
		}
	}
	return out
}

// exprBuiltins are expr-lang's own functions, offered as suggestions.
var exprBuiltins = []string{
	"all", "none", "any", "one", "filter", "map", "find", "count", "sum", "len",
	"abs", "ceil", "floor", "round", "int", "float", "string", "trim", "trimPrefix",
	"trimSuffix", "upper", "lower", "split", "replace", "repeat", "join", "indexOf",
	"hasPrefix", "hasSuffix", "max", "min", "mean", "toJSON", "fromJSON", "first",
	"last", "keys", "values", "reverse", "uniq", "concat", "flatten", "sort",
}

func isNameRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !isNameRune(r) {
			return false
		}
	}
	return true
}

// canonical prints the parsed expression back, so that fingerprints ignore
// spacing; unparsable text is kept as is.
func canonical(src string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return src
	}
	return tree.Node.String()
}

// identUses returns the identifier nodes naming one of names, in order.
func identUses(src string, names ...string) []*ast.IdentifierNode {
	// Most expressions name none of them: skip the parse.
	found := false
	for _, n := range names {
		if strings.Contains(src, n) {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &identVisitor{names: names}
	ast.Walk(&tree.Node, v)
	return v.found
}

type identVisitor struct {
	names []string
	any   bool // collect every identifier, whatever its name
	found []*ast.IdentifierNode
}

func (v *identVisitor) Visit(n *ast.Node) {
	id, ok := (*n).(*ast.IdentifierNode)
	if !ok {
		return
	}
	if v.any {
		v.found = append(v.found, id)
		return
	}
	for _, name := range v.names {
		if id.Value == name {
			v.found = append(v.found, id)
		}
	}
}
