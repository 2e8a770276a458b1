// Package lang is the .llmp language front end: it turns source text into a
// positioned AST (Parse), renders problems in the user's program
// (Diagnostics.Fprint), and prints files in canonical form (Format). It knows
// nothing of models, expr-lang or the runtime; the checker in interp decides
// what the names and values mean.
//
// # Lexical rules
//
//   - Source is UTF-8; invalid UTF-8 is an error at the first bad byte. Lines
//     end at "\n"; a "\r" before it (CRLF) is whitespace.
//   - '#' starts a comment that runs to the end of the line (outside
//     strings). Comments are kept in File.Comments without trailing blanks.
//     expr-lang's '#' closure argument is therefore not available; use the
//     ".field" shorthand or a named predicate instead.
//   - Names are [A-Za-z_][A-Za-z0-9_]*.
//   - "…" strings use Go escapes and end on their line. """…""" strings may
//     span lines and take their text as written (no escapes): when the rest
//     of the opening line is blank it is dropped with its newline; then the
//     longest common leading whitespace (compared byte for byte) of the
//     non-blank lines and of the closing line (the text before the closing
//     """) is removed from every line; blank lines keep what lies beyond that
//     prefix, or become empty; a closing """ on its own line leaves the value
//     ending in "\n"; CRLF decodes to "\n". Text right after the opening """
//     is kept as is and does not take part in the indentation.
//   - Numbers: 42, 1_000_000 (underscores only between digits), 0.25, 1e6.
//     A number followed by letters is a duration, which must be
//     number+unit pairs with units ns, us, ms, s, m, h (500ms, 1h30m);
//     anything else ("5x", "1h3") is an error wherever it appears.
//   - Money is US dollars: $5, $0.25, $1_000. expr-lang's $env stays a name.
//   - expr-lang's 'single-quoted' and `raw` strings are recognised inside
//     values so that '#' and brackets in them are not misread; a ` string may
//     span lines.
//
// # Grammar
//
// Newlines end entries; inside ( [ { of a value they are ignored.
//
//	file      = { NEWLINE | block } EOF .
//	block     = NAME [ NAME ] ( "{" body "}" | "=" value ) .   (NAME = VALUE needs the second NAME)
//	body      = { NEWLINE | entry } .                           (one entry per line)
//	entry     = NAME "=" value | check | block .                (fields instead, in a schema block)
//	check     = "check" [ NAME ] STRING ":" value .
//	field     = NAME type [ STRING ] .
//	type      = ( NAME | "[" type "]" | STRING { "|" STRING } | "{" { NEWLINE | field } "}" ) [ "?" ] .
//	value     = tokens up to the end of the line, a comment or the "}" closing the block .
//
// A body is read as schema fields when its block kind is "schema", and as
// attributes, checks and nested blocks otherwise; the word check starts a
// check unless "=" follows it. Any name is accepted as a block kind: the
// checker owns the list of kinds so that it can suggest a near one.
//
// # Values
//
// Value.Raw is the exact source text of a value (trailing comment and
// blanks excluded) and Value.Range its span, so the checker can compile an
// expression and map expr-lang's error columns onto the file. Value.Lit is
// set only when the whole text is one literal: a string, number, duration,
// money amount, dotted reference (item.id, extract.failed, true), a list
// whose elements are all literals, or LO .. HI. Whether an attribute wants
// an expression, a template, a reference or a literal is the checker's
// business, never the parser's.
//
// The parser still rejects values that cannot be expressions in any
// attribute, because their mistake is a layout one: two operands side by
// side after a literal ("workers = 16 budget = 2", a stray token), a value
// ending in a binary operator (a value ends at its line; wrap it in
// parentheses to go on), and brackets that do not match.
//
// # Design
//
// The lexer is participle's (lexer.MustSimple); the parser is a small
// hand-written recursive descent over its tokens. A participle grammar
// cannot express "a value is the raw text up to the end of the line unless
// a bracket is open" cleanly, and hand-written descent gives each error its
// own message, position and help. Malformed tokens (an unterminated string,
// a bad duration) are lexed as tokens of their own and reported when the
// parser reaches them, so the first error in the file is the one reported.
// participle runs one line at a time: Go's regexp backtracker clears state
// proportional to its input on every match, so lexing the whole remaining
// file per token would be quadratic.
//
// Parse stops at the first syntax error (there is no recovery) and returns
// exactly one diagnostic. Positions are exact on every node: 1-based line,
// 1-based column counted in runes (a tab is one column), byte offset; End is
// exclusive. StringLit.Segments and StringLit.PosAt map decoded string
// offsets back to the file, so errors inside template holes land on the
// right column even in indented """ strings or after escapes.
//
// Diagnostics.Fprint renders rustc-style snippets: tabs expanded the same
// way in the source and caret lines, at least one caret, only the first line
// of a multi-line range, colour only when asked.
//
// Format prints the canonical layout (see Format); it is idempotent and
// keeps the AST (apart from positions) and every comment. The example
// pipelines in pipelines/ are in canonical form. FuzzParse checks these
// properties on mutated inputs.
package lang
