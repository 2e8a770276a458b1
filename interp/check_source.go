package interp

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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

// untypedItem is the type of an item whose fields the checker does not
// know: a map of anything.
var untypedItem = types.Map{types.Extra: types.Any}

// itemIn adds item to env as src's items look: typed by the source's
// schema or csv header when the checker knows them (so item.nmae is an
// error, with the same words as output.nmae), anything at all when its
// schema attribute did not resolve (reported once already: no cascade of
// errors about its fields), and otherwise an untyped map. src may be nil
// (a step whose source is unknown).
func (c *checker) itemIn(env exprEnv, src *Source) exprEnv {
	switch {
	case src == nil:
		return env.with(VarItem, untypedItem)
	case src.Item != nil:
		return env.withShape(VarItem, src.Item)
	case c.badItem[src]:
		return env.with(VarItem, types.Any)
	}
	return env.with(VarItem, untypedItem)
}

// itemType is the expr type of src's items, for names that hold an item
// inside something else (a test's record.item).
func (c *checker) itemType(src *Source) types.Type {
	switch {
	case src == nil:
		return untypedItem
	case src.Item != nil:
		return exprType(src.Item)
	case c.badItem[src]:
		return types.Any
	}
	return untypedItem
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
			if src.Kind == kindCSV && p != "" {
				src.Item = c.csvItem(a, p, src.Path)
			}
		}
	}
	if kindAttr == nil {
		c.errorf(d.block.Name.Range, kindHelp(sourceKindSpecs), "source %q says nowhere to read from", src.Name)
	}
	c.kindOnlyAttrs(b, src, kindAttr)
	if a := b.attrs[attrSchema]; a != nil && c.takes(src, attrSchema) {
		c.sourceSchema(src, a)
	}
	env := c.itemIn(c.base, src)
	if a := b.attrs["id"]; a != nil {
		src.ID = c.attrExpr(a, env, false, nil)
	}
	if a := b.attrs["where"]; a != nil {
		src.Where = c.attrExpr(a, env, true, nil)
	}
	if a := b.attrs["limit"]; a != nil {
		src.Limit, _ = c.integer(a, 0)
	}
	d.source = src
	c.prog.Sources = append(c.prog.Sources, src)
}

// kindCSV is the source kind whose header types its items.
const kindCSV = "csv"

// kindOnlyAttrs refuses the attributes that only other kinds take (schema
// on a csv source). Without a kind there is nothing to hold them to.
func (c *checker) kindOnlyAttrs(b *body, src *Source, kindAttr *lang.Attribute) {
	if kindAttr == nil {
		return
	}
	for _, spec := range sourceKindAttrs {
		a := b.attrs[spec.Name]
		if a == nil || c.takes(src, spec.Name) {
			continue
		}
		help := fmt.Sprintf("%s is for %s sources", spec.Name, orList(kindsTaking(sourceKindSpecs, spec.Name)))
		if src.Kind == kindCSV && spec.Name == attrSchema {
			help = "a csv source's header row names its fields, and they are strings; " + help
		}
		d := c.errorf(a.Name.Range, help, "a %s source takes no %s", src.Kind, spec.Name)
		d.Notes = []lang.Note{{Range: kindAttr.Name.Range, Message: "the source's kind is given here"}}
		if spec.Name == attrSchema {
			// The schema is named all the same: do not also call it unused.
			if r, ok := a.Value.Lit.(*lang.RefLit); ok {
				if x := c.decls[r.Dotted()]; x != nil {
					x.used = true
				}
			}
		}
	}
}

// takes reports whether src's kind takes the kind-only attribute name.
func (c *checker) takes(src *Source, name string) bool {
	for _, k := range sourceKindSpecs {
		if k.Name == src.Kind {
			return slices.Contains(k.Attrs, name)
		}
	}
	return false
}

// sourceSchema resolves `schema = NAME`: the items must fit it, and item
// is typed by it. A name that does not resolve leaves item as anything,
// so that its fields raise no second error.
func (c *checker) sourceSchema(src *Source, a *lang.Attribute) {
	c.badItem[src] = true
	r, ok := c.ref(a, 1)
	if !ok {
		return
	}
	x := c.lookup(r, "schema", kindSchema)
	if x == nil || x.schema == nil {
		return
	}
	src.Schema, src.Item = x.schema, x.schema.Type
	delete(c.badItem, src)
}

// maxHeaderBytes bounds how much of a csv file the checker reads for its
// header row.
const maxHeaderBytes = 1 << 20

// csvItem reads the header row of a csv source's file (at path; written
// as p) and returns the item type it makes: one string field per column,
// as the source reads them. A file that is not there leaves item untyped,
// without a word: a pipeline is checked before the data it reads exists
// (in CI, or before an earlier job writes it). A header the source would
// refuse is an error here already.
func (c *checker) csvItem(a *lang.Attribute, p, path string) *Type {
	names, err := CSVHeader(path)
	var he *HeaderError
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && names == nil:
		return nil
	case errors.As(err, &he):
		c.errorf(a.Value.Range, "fix the first row of the file: it names the fields", "%q: %v", p, he.Err)
		return nil
	case err != nil:
		c.errorf(a.Value.Range, "", "reading the header row of %q: %v", p, unwrapPath(err))
		return nil
	}
	t := &Type{Kind: KindObject, Fields: make([]*Field, len(names))}
	for i, n := range names {
		t.Fields[i] = &Field{Name: n, Type: &Type{Kind: KindString}, Doc: fmt.Sprintf("column %d of %s", i+1, p)}
	}
	return t
}

// HeaderError is a csv header row that HeaderNames refuses.
type HeaderError struct{ Err error }

func (e *HeaderError) Error() string { return e.Err.Error() }
func (e *HeaderError) Unwrap() error { return e.Err }

// CSVHeader reads the field names of the csv file at path from its header
// row, as the checker types item by them (the language server offers them
// after "item."). It returns nil names and no error for an empty file or
// a header longer than it reads (1 MiB), an error matching fs.ErrNotExist
// for a missing file, and a *HeaderError for a header HeaderNames refuses.
func CSVHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: maxHeaderBytes}
	br := bufio.NewReader(lr)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	row, err := r.Read()
	switch {
	case lr.N == 0:
		return nil, nil // a header longer than we read: leave item untyped
	case errors.Is(err, io.EOF):
		return nil, nil // an empty file: the run says "no header row"
	case err != nil:
		return nil, err
	}
	names, err := HeaderNames(row)
	if err != nil {
		return nil, &HeaderError{Err: err}
	}
	return names, nil
}

// utf8BOM is the byte order mark some tools write at the start of a csv.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// unwrapPath drops the absolute path an *fs.PathError carries: the message
// already names the file as the user wrote it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
