package interp

import (
	"strconv"
	"strings"

	"github.com/llmpipe/llmpipe/lang"
)

// The documentation view of the checker's block specs, for tools that explain
// or complete the language (the language server). It is built from the same
// table the checker enforces, so the two cannot drift.

// AttrRole says how an attribute's value is read.
type AttrRole int

const (
	RoleLiteral  AttrRole = iota // a string, number, duration, money amount or range
	RoleRef                      // a block name
	RoleModels                   // a ladder, a model, a model id or a list of them
	RoleExpr                     // an expr-lang expression
	RoleTemplate                 // a string with {{ }} holes
)

// AttrDoc documents one attribute of a block kind.
type AttrDoc struct {
	Name     string
	Type     string // how the value is written, e.g. "duration", "expression"
	Role     AttrRole
	Required bool
	Default  string
	Doc      string
}

// BlockDoc documents one block kind.
type BlockDoc struct {
	Kind      string
	Doc       string
	TopLevel  bool
	Named     bool
	ValueForm bool
	Checks    bool // check lines allowed
	Fields    bool // schema fields
	Blocks    []string
	Attrs     []AttrDoc
}

var kindTypes = map[valKind]string{
	vString: "string", vInt: "integer", vNumber: "number", vDuration: "duration",
	vMoney: "money ($)", vRef: "block name", vModels: "models", vExpr: "expression",
	vBoolExpr: "bool expression", vTemplate: "template", vDurRange: "duration range", vText: "text",
	vBool: "true or false",
}

func roleOf(k valKind) AttrRole {
	switch k {
	case vRef:
		return RoleRef
	case vModels:
		return RoleModels
	case vExpr, vBoolExpr:
		return RoleExpr
	case vTemplate:
		return RoleTemplate
	}
	return RoleLiteral
}

// BlockDocs lists every block kind: the top-level ones in the order the
// checker suggests them, then nested ones.
func BlockDocs() []BlockDoc {
	var out []BlockDoc
	seen := map[string]bool{}
	add := func(kind string, top bool) {
		s, ok := specs[kind]
		if !ok || seen[kind] {
			return
		}
		seen[kind] = true
		d := BlockDoc{Kind: s.Kind, Doc: s.Doc, TopLevel: top, Named: s.Named, ValueForm: s.ValueForm,
			Checks: s.Checks, Fields: s.Fields, Blocks: s.Blocks}
		for _, a := range s.Attrs {
			d.Attrs = append(d.Attrs, AttrDoc{Name: a.Name, Type: kindTypes[a.Kind], Role: roleOf(a.Kind),
				Required: a.Required, Default: a.Default, Doc: a.Doc})
		}
		out = append(out, d)
	}
	for _, k := range topKinds {
		add(k, true)
	}
	for _, k := range topKinds {
		for _, n := range specs[k].Blocks {
			add(n, false)
		}
	}
	return out
}

// KnownModels are the model ids the checker knows without a model block.
func KnownModels() []string { return append([]string(nil), knownModels...) }

// Scope names the variables an expression or template sees in one place.
type Scope int

const (
	ScopeSource   Scope = iota // a source's id and where: item
	ScopeStep                  // a step's where, system and prompt: id, item, earlier steps
	ScopeCheck                 // a check: also output and text
	ScopeFeedback              // a retry feedback template
	ScopeTest                  // a test block's expect lines
)

// ScopeVars are the variable names visible in a place (earlier steps'
// names come on top of these where the scope allows).
func ScopeVars(s Scope) []string {
	switch s {
	case ScopeSource:
		return []string{VarItem}
	case ScopeCheck:
		return []string{VarOutput, VarText, VarItem, VarID}
	case ScopeTest:
		return []string{VarOutput, VarText, "record", "models", "failed_fields", "feedback", "attempts", "cost", VarItem, VarID}
	case ScopeFeedback:
		return []string{VarFailed, VarPassed, VarPrevious, VarAttempt, VarModel, VarItem, VarID}
	}
	return []string{VarItem, VarID}
}

// didYouMeanPrefix opens every did-you-mean help line (see didYouMean).
const didYouMeanPrefix = "did you mean "

// Suggestion is the replacement a diagnostic's did-you-mean help offers for
// its range, if it offers one: the help's format is made in one place
// (didYouMean) and read back here, so an editor can offer it as a fix.
func Suggestion(d *lang.Diagnostic) (string, bool) {
	h, ok := strings.CutPrefix(d.Help, didYouMeanPrefix)
	if !ok {
		return "", false
	}
	q, err := strconv.QuotedPrefix(h)
	if err != nil || !strings.HasPrefix(h[len(q):], "?") {
		return "", false
	}
	s, err := strconv.Unquote(q)
	return s, err == nil
}
