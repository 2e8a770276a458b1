package lang

import "time"

// Pos is a position in a source file: 1-based line, 1-based column counted in
// runes, and the 0-based byte offset.
type Pos struct {
	Line, Col, Offset int
}

// Range is a span of one file; End is exclusive.
type Range struct {
	File       string
	Start, End Pos
}

// File is one parsed .llmp file. Blocks keep source order.
type File struct {
	Name     string // as the user gave it
	Src      []byte
	Blocks   []*Block
	Comments []*Comment // every comment, in source order (the formatter needs them)
}

// Comment is a '#' comment; Text includes the '#'.
type Comment struct {
	Range Range
	Text  string
}

// Ident is a name with its range.
type Ident struct {
	Name  string
	Range Range
}

// Block is a top-level or nested block:
//
//	KIND NAME { BODY }        source people { … }
//	KIND { BODY }             config { … }   retry { … }
//	KIND NAME = VALUE         ladder cheap_first = [ … ]
//
// The parser accepts any identifier as KIND; the checker decides which kinds
// exist, so a misspelt kind gets a suggestion instead of a syntax error.
type Block struct {
	Range Range
	Kind  Ident
	Name  *Ident // nil when the block has no name
	Body  *Body  // nil for the `KIND NAME = VALUE` form
	Value *Value // non-nil only for the `KIND NAME = VALUE` form
}

// Body is the inside of braces. Entries keep source order and are one of
// *Attribute, *Check, *Expect, *Block (nested, e.g. retry) or *Field (schema fields).
type Body struct {
	Range   Range
	Entries []Entry
}

// Entry is one line (or bracketed run of lines) of a body.
type Entry interface {
	EntryRange() Range
}

// Attribute is `name = value`.
type Attribute struct {
	Range Range
	Name  Ident
	Value *Value
}

// Check is `check [NAME] ["message"]: expression`.
type Check struct {
	Range   Range
	Name    *Ident     // optional: the field the check is about
	Message *StringLit // optional: nil means the expression's text is the message
	Expr    *Value     // Raw is the expression text; Lit may be set but is ignored
}

// Expect is `expect expression`, a statement of a test block: a predicate
// over what the tested step did, written like a check without a message.
type Expect struct {
	Range Range
	Expr  *Value // Raw is the expression text; Lit may be set but is ignored
}

// Field is one schema field: `name TYPE ["doc"]`.
type Field struct {
	Range Range
	Name  Ident
	Type  *TypeExpr
	Doc   *StringLit // optional
}

// TypeExpr is a schema type:
//
//	string | int | float | bool | SchemaName     Name
//	[T]                                           List
//	"a" | "b" | "c"                               Enum
//	{ field TYPE … }                              Fields (inline object)
//	T?                                            Optional (on any of the above)
type TypeExpr struct {
	Range    Range
	Name     *Ident
	List     *TypeExpr
	Enum     []*StringLit
	Fields   []*Field
	Optional bool
}

func (a *Attribute) EntryRange() Range { return a.Range }
func (c *Check) EntryRange() Range     { return c.Range }
func (e *Expect) EntryRange() Range    { return e.Range }
func (b *Block) EntryRange() Range     { return b.Range }
func (f *Field) EntryRange() Range     { return f.Range }

// Value is the right-hand side of an attribute. Raw is the exact source text
// (for expressions, which the checker compiles itself from Range.Start); Lit is
// the literal the text forms, or nil when it is not a plain literal (for
// example `item.text != ""` or `file("a.md")`).
//
// Which attributes are expressions, templates, references or literals is
// decided by the checker from the attribute's name, never from how the value
// is written.
type Value struct {
	Range Range
	Raw   string
	Lit   Literal
}

// Literal is one of *StringLit, *NumberLit, *DurationLit, *MoneyLit, *RefLit,
// *ListLit, *RangeLit.
type Literal interface {
	LitRange() Range
}

// StringLit is "…" (Go escapes) or """…""" (indentation stripped). Value is
// the decoded text; PosAt maps a byte offset in Value back to the file, so
// that errors inside template holes point at the right column. Segments is
// never empty for a parsed literal.
type StringLit struct {
	Range  Range
	Value  string
	Triple bool
	// Segments map decoded offsets to source positions: segment i covers
	// Value[Segments[i].Offset : Segments[i+1].Offset] and starts at
	// Segments[i].Pos in the file; within a segment decoded and source text
	// advance together (escapes start a new segment).
	Segments []Segment
}

// Segment is one run of a decoded string that is verbatim in the source.
type Segment struct {
	Offset int  // byte offset in the decoded Value
	Pos    Pos  // where that byte is in the file
	Escape bool // the segment is one escape sequence: all its bytes map to Pos

	plain bool // ASCII with at most a final newline: offsets map by arithmetic
}

// NumberLit is an integer or float; underscores are allowed in the source.
type NumberLit struct {
	Range Range
	Text  string
	IsInt bool
	Int   int64
	Float float64
}

// DurationLit is 500ms, 30s, 2m, 1h30m.
type DurationLit struct {
	Range    Range
	Text     string
	Duration time.Duration
}

// MoneyLit is US dollars: $5, $0.25.
type MoneyLit struct {
	Range   Range
	Text    string
	Dollars float64
}

// RefLit is a bare or dotted name: cheap_first, extract.failed, auto.
type RefLit struct {
	Range Range
	Parts []Ident
}

// ListLit is [a, b, c]; elements may span lines.
type ListLit struct {
	Range Range
	Elems []*Value
}

// RangeLit is `LO .. HI`, e.g. `backoff = 1s .. 30s`.
type RangeLit struct {
	Range  Range
	Lo, Hi *Value
}

func (l *StringLit) LitRange() Range   { return l.Range }
func (l *NumberLit) LitRange() Range   { return l.Range }
func (l *DurationLit) LitRange() Range { return l.Range }
func (l *MoneyLit) LitRange() Range    { return l.Range }
func (l *RefLit) LitRange() Range      { return l.Range }
func (l *ListLit) LitRange() Range     { return l.Range }
func (l *RangeLit) LitRange() Range    { return l.Range }

// Dotted returns the reference as written, e.g. "extract.failed".
func (r *RefLit) Dotted() string {
	s := ""
	for i, p := range r.Parts {
		if i > 0 {
			s += "."
		}
		s += p.Name
	}
	return s
}
