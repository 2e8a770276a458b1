// Package lsp is llmpipe's language server: it brings the checker that
// `llmpipe check` runs into editors over the Language Server Protocol.
//
// The server keeps the open documents, re-checks one when it changes (after
// a short debounce, so typing does not queue a check per key), and answers
// from the last good analysis: diagnostics, hover, completion, definitions
// and references, formatting, document symbols, did-you-mean code actions and
// semantic tokens. Everything it knows comes from lang (the parser and the
// formatter) and interp (the checker and its block specs) through the same
// entry point `check` uses, so an editor and the command line never disagree.
//
// The protocol types and the request dispatch are github.com/tliron/glsp's;
// the transport is github.com/sourcegraph/jsonrpc2 on any reader and writer,
// so a test drives the server over pipes exactly as an editor does.
//
// Positions: the checker counts columns in runes and keeps byte offsets; the
// protocol counts UTF-16 code units unless the client negotiates another
// encoding (positionEncoding, LSP 3.17). position.go converts between the
// two through the byte offset, which both sides agree on.
package lsp
