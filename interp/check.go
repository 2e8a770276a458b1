package interp

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// maxDiags is how many diagnostics Check reports before it stops listing.
const maxDiags = 10

// Check checks a parsed file and lowers it to a Program. It never stops at
// the first problem: all diagnostics found are returned, sorted by position,
// de-duplicated and capped near ten. The Program is nil when any diagnostic
// is an error; warnings alone still yield a Program.
func Check(f *lang.File, opts *Options) (prog *Program, diags lang.Diagnostics) {
	if f == nil {
		return nil, lang.Diagnostics{{Severity: lang.SeverityError, Message: "no file to check"}}
	}
	if opts == nil {
		opts = &Options{}
	}
	c := newChecker(f, opts)
	defer func() {
		// Checking must never crash the caller (an editor, a watcher); a
		// panic here is our bug, reported as such rather than hidden.
		if r := recover(); r != nil {
			prog = nil
			diags = append(c.finish(), &lang.Diagnostic{
				Severity: lang.SeverityError,
				Range:    lang.Range{File: f.Name, Start: lang.Pos{Line: 1, Col: 1}, End: lang.Pos{Line: 1, Col: 2, Offset: 1}},
				Message:  fmt.Sprintf("internal checker error: %v", r),
				Help:     "this is a bug in llmpipe; please report it with the file that caused it",
			})
		}
	}()
	c.run()
	diags = c.finish()
	for _, d := range diags {
		if d.Severity == lang.SeverityError {
			return nil, diags
		}
	}
	return c.prog, diags
}

// checker holds the state of one Check call.
type checker struct {
	f     *lang.File
	opts  *Options
	prog  *Program
	fctx  *FuncContext
	base  exprEnv // functions only; every environment starts from it
	diags []*lang.Diagnostic

	decls map[string]*decl // every named block, one namespace (use marks decl.used)
	order []*decl          // named blocks in source order

	configBlock *lang.Block
	plain       map[string]*Model // models written as plain ids, by id
	// badItem holds the sources whose schema attribute did not resolve:
	// their item is anything, so its fields raise no second error.
	badItem map[*Source]bool
}

// decl is one named top-level block and what it lowered to.
type decl struct {
	kind  string
	block *lang.Block
	name  string
	used  bool // referred to by another block (unused ones are warned about)

	schema *Schema
	model  *Model
	ladder []*Model
	cache  *Cache
	source *Source
	step   *stepDecl

	// schema lowering state, to catch recursive schemas
	visiting, done bool
}

func newChecker(f *lang.File, opts *Options) *checker {
	dir := "."
	if abs, err := filepath.Abs(f.Name); err == nil {
		dir = filepath.Dir(abs)
	}
	if opts.Dir != "" {
		if abs, err := filepath.Abs(opts.Dir); err == nil {
			dir = abs
		}
	}
	c := &checker{
		f:     f,
		opts:  opts,
		prog:  &Program{File: f.Name, Dir: dir, Config: Config{Provider: "gemini", Tier: 1}},
		fctx:  &FuncContext{Dir: dir},
		decls: map[string]*decl{},
		plain: map[string]*Model{},

		badItem: map[*Source]bool{},
	}
	c.base = exprEnv{vars: types.Map{}, memo: map[memoKey]memoEntry{}}
	c.base.warn = func(d *lang.Diagnostic) { c.diags = append(c.diags, d) }
	for _, fn := range opts.Funcs {
		if fn == nil || fn.Fn == nil {
			continue
		}
		call, fctx := fn.Fn, c.fctx
		c.base.funcs = append(c.base.funcs, expr.Function(fn.Name, func(args ...any) (any, error) {
			return call(fctx, args...)
		}, fn.Types...))
		c.base.names = append(c.base.names, fn.Name)
	}
	return c
}

func (c *checker) errorf(r lang.Range, help, format string, args ...any) *lang.Diagnostic {
	d := &lang.Diagnostic{Severity: lang.SeverityError, Range: r, Message: fmt.Sprintf(format, args...), Help: help}
	c.diags = append(c.diags, d)
	return d
}

func (c *checker) warnf(r lang.Range, help, format string, args ...any) *lang.Diagnostic {
	d := &lang.Diagnostic{Severity: lang.SeverityWarning, Range: r, Message: fmt.Sprintf(format, args...), Help: help}
	c.diags = append(c.diags, d)
	return d
}

func (c *checker) add(ds ...*lang.Diagnostic) { c.diags = append(c.diags, ds...) }

// didYouMean is a help line suggesting the nearest candidate, or fallback.
func didYouMean(name string, cands []string, fallback string) string {
	if n := nearest(name, cands); n != "" {
		return fmt.Sprintf("did you mean %q?", n)
	}
	return fallback
}

// finish sorts, de-duplicates and caps the diagnostics.
func (c *checker) finish() lang.Diagnostics {
	ds := c.diags
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Range, ds[j].Range
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset < b.Start.Offset
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		if a.Start.Col != b.Start.Col {
			return a.Start.Col < b.Start.Col
		}
		return ds[i].Message < ds[j].Message
	})
	var out lang.Diagnostics
	for i, d := range ds {
		if i > 0 && ds[i-1].Range == d.Range && ds[i-1].Message == d.Message {
			continue
		}
		out = append(out, d)
	}
	if len(out) > maxDiags {
		rest := len(out) - maxDiags
		more := out[maxDiags]
		out = append(out[:maxDiags:maxDiags], &lang.Diagnostic{
			Severity: lang.SeverityError,
			Range:    more.Range,
			Message:  fmt.Sprintf("too many errors (%d more not shown)", rest),
			Help:     "fix the problems above and check again",
		})
	}
	return out
}

// run checks the whole file.
func (c *checker) run() {
	c.declare()
	for _, d := range c.order {
		switch d.kind {
		case kindSchema:
			c.lowerSchema(d)
		}
	}
	for _, d := range c.order {
		switch d.kind {
		case kindModel:
			c.lowerModel(d)
		case kindCache:
			c.lowerCache(d)
		case kindSource:
			c.lowerSource(d)
		}
	}
	for _, d := range c.order {
		if d.kind == kindLadder {
			c.lowerLadder(d)
		}
	}
	c.checkSteps()
	for _, d := range c.order {
		if d.kind == kindSink {
			c.lowerSink(d)
		}
	}
	c.lowerConfig()
	c.checkProviders()
	c.warnUnused()
	c.checkTests()
	if len(c.prog.Steps) == 0 && !c.hasStepDecl() && !c.hasErrors() {
		c.warnf(lang.Range{File: c.f.Name, Start: lang.Pos{Line: 1, Col: 1}, End: lang.Pos{Line: 1, Col: 1}},
			"add a step NAME { from = …, models = …, prompt = … }; llmpipe run needs at least one",
			"the pipeline has no steps")
	}
}

// hasErrors reports whether an error has been reported so far.
func (c *checker) hasErrors() bool {
	for _, d := range c.diags {
		if d.Severity == lang.SeverityError {
			return true
		}
	}
	return false
}

// hasStepDecl reports whether the file declares a step (a step with errors
// of its own still counts: the warning would only repeat them).
func (c *checker) hasStepDecl() bool {
	for _, d := range c.order {
		if d.kind == kindStep {
			return true
		}
	}
	return false
}

// declare checks block kinds and names and indexes named blocks.
func (c *checker) declare() {
	var config *lang.Block
	for _, b := range c.f.Blocks {
		if b == nil {
			continue
		}
		spec, ok := specs[b.Kind.Name]
		if !ok || b.Kind.Name == kindRetry {
			help := didYouMean(b.Kind.Name, topKinds, "blocks are source, schema, model, ladder, cache, step, sink, config and test")
			if b.Kind.Name == kindRetry {
				help = "retry goes inside a step"
			}
			c.errorf(b.Kind.Range, help, "unknown block kind %q", b.Kind.Name)
			continue
		}
		if !c.blockShape(b, spec) {
			continue
		}
		if b.Kind.Name == kindConfig {
			if config != nil {
				d := c.errorf(b.Kind.Range, "merge the settings into one config block", "config is already defined")
				d.Notes = []lang.Note{{Range: config.Kind.Range, Message: "first defined here"}}
				continue
			}
			config = b
			continue
		}
		name := b.Name.Name
		if first, dup := c.decls[name]; dup {
			d := c.errorf(b.Name.Range, "rename one of them; all block names share one namespace", "%q is already defined", name)
			d.Notes = []lang.Note{{Range: first.block.Name.Range, Message: "first defined here"}}
			continue
		}
		if b.Kind.Name == kindStep {
			for _, r := range reserved {
				if r == name {
					c.errorf(b.Name.Range, "expressions use this name for something else; choose another", "%q cannot name a step", name)
				}
			}
		}
		d := &decl{kind: b.Kind.Name, block: b, name: name}
		c.decls[name] = d
		c.order = append(c.order, d)
	}
	c.configBlock = config
}

// blockShape checks that a block is written in the form its kind takes.
func (c *checker) blockShape(b *lang.Block, spec *blockSpec) bool {
	switch {
	case spec.Named && b.Name == nil:
		c.errorf(b.Kind.Range, fmt.Sprintf("write %s NAME { … }", spec.Kind), "%s block needs a name", spec.Kind)
		return false
	case !spec.Named && b.Name != nil:
		c.errorf(b.Name.Range, fmt.Sprintf("write %s { … }", spec.Kind), "%s block takes no name", spec.Kind)
		return false
	case spec.ValueForm && b.Value == nil:
		c.errorf(b.Kind.Range, "write ladder NAME = [\"model-a\", \"model-b\"]", "ladder is written with \"=\" and a list")
		return false
	case !spec.ValueForm && b.Body == nil:
		c.errorf(b.Kind.Range, fmt.Sprintf("write %s { … }", spec.Kind), "%s block needs a body in braces", spec.Kind)
		return false
	}
	return true
}
