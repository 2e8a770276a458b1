// Package stdlib holds llmpipe's built-ins: the sources that read items, the
// sinks that write records, expression functions, providers, price and quota
// tables and the store.
//
// # Sources
//
// OpenSource opens one source of a checked program. Every kind streams its
// file, so memory does not grow with the file's size:
//
//   - jsonl: one JSON object per line; blank lines are skipped.
//   - csv: the header row names the fields; every value is a string.
//   - lines: every non-blank line becomes {"text", "line"}.
//   - files: a glob (with ** for any number of directories); one item
//     {"path", "name", "text"} per file, in path order, read when it is reached.
//   - json: a top-level array of objects.
//
// A malformed record (a line that is not a JSON object, a ragged csv row, a
// file too large) becomes an Item with Err set and the source goes on; only a
// broken file (an I/O error, a json array that stops parsing) ends it with an
// error.
//
// JSON numbers are normalised so expressions compare them naturally: an
// integer that fits in 64 bits becomes an int, any other number a float64.
//
// # Sinks
//
// OpenSink opens one sink. The file is truncated at open: the runtime
// re-delivers the records of earlier runs from its store when a run starts, so
// a sink file always holds the complete output of the current run. Records are
// written whole and in batches; see sink_writer.go for what a crash can lose.
package stdlib
