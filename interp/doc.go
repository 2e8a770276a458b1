// Package interp checks a parsed .llmp file and lowers it to a Program: every
// name resolved, every expression and template compiled once with
// expr-lang, every schema turned into a Gemini response schema and a reply
// parser. The runtime only ever sees the Program.
//
// # Checking
//
// Check walks the blocks twice. The first pass indexes names (one namespace
// for all named blocks, so a reference can never be ambiguous) and lowers the
// blocks that depend on nothing: schemas, models, ladders, caches, sources.
// The second pass resolves steps and sinks, orders the steps so that each
// comes after the step it reads from, and only then compiles the steps'
// expressions, because a step's environment holds the outputs of the steps
// before it, typed by their schemas.
//
// Problems are collected as lang.Diagnostics, never returned as errors, and
// checking goes on after a problem so that one run reports as many as it can
// (capped near ten).
//
// # Positions
//
// expr reports positions relative to the expression it compiled. An
// attribute's expression starts at its Value's range; a template hole starts
// at the decoded offset of its first character, which the string literal's
// segments map back to the file, so errors inside multi-line strings point at
// the true line and column.
package interp
