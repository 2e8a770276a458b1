package interp

import (
	"fmt"
	"slices"
	"strings"
)

// The registry of source and sink kinds, static half. A source or sink
// block names its kind by the attribute that holds its path (`jsonl =
// "people.jsonl"`); everything known about a kind without running it
// lives here — its name, docs, what the path names and the fields of an
// item — so that the checker, its messages and `llmpipe doc` read one
// table and need no stdlib. stdlib registers one constructor per kind
// against this table (stdlib/kinds.go) and a test holds the two halves
// equal.

// IOKind is the static spec of one source or sink kind. It is data:
// read it, do not change it.
type IOKind struct {
	Name    string // the attribute that selects the kind and holds its path
	Summary string // one line: what the path names and how it is read
	Doc     string // more, when one line is not enough; may be empty
	// Fields are the fields of an item of a source kind with a fixed
	// shape (item.text, …); nil when the file's own records give them.
	Fields []FieldDoc
	// Attrs names the attributes only this kind takes, beside its path
	// and the block's own (sourceKindAttrs describes them); the checker
	// refuses them on the other kinds.
	Attrs   []string
	Example string // the attribute as written in a block
}

// FieldDoc documents one field of an item or record.
type FieldDoc struct {
	Name, Type, Doc string
}

var sourceKindSpecs = []IOKind{
	{Name: "jsonl", Summary: "a JSON Lines file, one item per line",
		Doc: "Each non-blank line is one JSON object; its keys are the item's fields. " +
			"A line that is not an object is a failed item, and the run goes on. " +
			"With schema = NAME every item must fit that schema, and item.FIELD is typed by it.",
		Attrs:   []string{attrSchema},
		Example: `jsonl = "people.jsonl"`},
	{Name: "csv", Summary: "a CSV file whose header row names the fields",
		Doc: "Every value is a string; quoted fields may span lines. A row with the wrong number of fields is a failed item. " +
			"When the file is there at check time, its header types item: item.FIELD must be a column.",
		Example: `csv = "people.csv"`},
	{Name: "lines", Summary: "a text file, one item per line (item.text, item.line)",
		Doc: "Blank lines are skipped.",
		Fields: []FieldDoc{
			{Name: "text", Type: "string", Doc: "the line, without its line break"},
			{Name: "line", Type: "int", Doc: "the line's number, from 1"},
		},
		Example: `lines = "questions.txt"`},
	{Name: "files", Summary: "a glob, one item per file",
		Doc: "The glob uses path.Match syntax per segment, and ** for any number of directories. " +
			"Each file is read when its item comes up; a file too large to be a prompt is a failed item.",
		Example: `files = "docs/**/*.md"`},
	{Name: "json", Summary: "a JSON file holding an array of items",
		Doc: "The array is streamed, never held whole; an element that is not an object is a failed item. " +
			"With schema = NAME every element must fit that schema, and item.FIELD is typed by it.",
		Attrs:   []string{attrSchema},
		Example: `json = "people.json"`},
}

var sinkKindSpecs = []IOKind{
	{Name: "jsonl", Summary: "a JSON Lines file, one record per line",
		Doc: "Each line holds the item, every step's output and a _meta object; a failed record also has an error object. " +
			"The file is rewritten from the store at the start of each run, so it always holds the whole run.",
		Example: `jsonl = "out/people.jsonl"`},
	{Name: "csv", Summary: "a CSV file, one row per record",
		Doc: "Columns are id, then one per top-level field of the step's output (or one for a text step); " +
			"for STEP.failed they are id, step, class, message and last_reply.",
		Example: `csv = "out/people.csv"`},
}

// attrSchema names the schema a source's items must fit.
const attrSchema = "schema"

// sourceKindAttrs are the attributes some source kinds take (IOKind.Attrs
// says which); their docs name those kinds.
var sourceKindAttrs = []attrSpec{
	{Name: attrSchema, Kind: vRef, Doc: "a schema every item must fit: item.FIELD is typed by it, and an item that does not fit fails"},
}

// kindOnlyAttrSpecs are attrs with their docs saying which kinds take them:
// "jsonl and json: …".
func kindOnlyAttrSpecs(attrs []attrSpec, kinds []IOKind) []attrSpec {
	out := make([]attrSpec, len(attrs))
	for i, a := range attrs {
		a.Doc = orList(kindsTaking(kinds, a.Name)) + ": " + a.Doc
		out[i] = a
	}
	return out
}

// kindsTaking names the kinds that take attribute name.
func kindsTaking(kinds []IOKind, name string) []string {
	var out []string
	for _, k := range kinds {
		if slices.Contains(k.Attrs, name) {
			out = append(out, k.Name)
		}
	}
	return out
}

// orList joins names as "a", "a and b" or "a, b and c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// SourceKinds lists the kinds a source block may name, in the order they
// are offered in messages and docs.
func SourceKinds() []IOKind { return slices.Clone(sourceKindSpecs) }

// SinkKinds lists the kinds a sink block may name.
func SinkKinds() []IOKind { return slices.Clone(sinkKindSpecs) }

// kindNames lists the kinds' attribute names.
func kindNames(kinds []IOKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

// kindAttrSpecs turns kinds into the attributes of their block: each is a
// string holding a path.
func kindAttrSpecs(kinds []IOKind) []attrSpec {
	out := make([]attrSpec, len(kinds))
	for i, k := range kinds {
		out[i] = attrSpec{Name: k.Name, Kind: vString, Doc: k.Summary}
	}
	return out
}

// kindHelp is the help for a block that names no kind: `add jsonl =
// "path" or csv = "path"`, or with more kinds `add one of a, b or c =
// "path"`.
func kindHelp(kinds []IOKind) string {
	names := kindNames(kinds)
	const path = ` = "path"`
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "add " + names[0] + path
	case 2:
		return "add " + names[0] + path + " or " + names[1] + path
	}
	return "add one of " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + path
}

// HeaderNames returns the field names of a csv header row, trimmed of
// spaces ("name, age" is common). It refuses empty and duplicate names:
// either would silently lose a column. The checker (which types item by
// the header) and the csv source (which reads the rows) both ask it, so
// they agree on the fields.
func HeaderNames(row []string) ([]string, error) {
	names := make([]string, len(row))
	seen := make(map[string]int, len(row))
	for i, h := range row {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("header column %d has no name", i+1)
		}
		if j, dup := seen[h]; dup {
			return nil, fmt.Errorf("header names %q twice (columns %d and %d)", h, j+1, i+1)
		}
		seen[h] = i
		names[i] = h
	}
	return names, nil
}
