package lsp

import (
	"net/url"
	"path/filepath"
	"sync"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
)

// document is one open file. Its analysis is computed on demand and cached
// per text, so a request right after a change sees the change, and a burst of
// requests costs one check.
type document struct {
	uri  protocol.DocumentUri
	path string // the file system path the checker resolves file() against

	mu       sync.Mutex
	text     string
	version  protocol.Integer
	analysis *analysis  // for text, or nil when stale
	lastFile *lang.File // the last text that parsed, for completion mid-edit
}

// analysis is what the checker said about one text.
type analysis struct {
	text  string
	lines *lines
	file  *lang.File      // nil when the text does not parse
	prog  *interp.Program // nil when the text has errors
	diags lang.Diagnostics
	index *index
}

func newDocument(uri protocol.DocumentUri, text string, version protocol.Integer) *document {
	return &document{uri: uri, path: uriPath(uri), text: text, version: version}
}

// uriPath turns a file:// URI into a path; anything else is used as a name.
func uriPath(uri protocol.DocumentUri) string {
	u, err := url.Parse(string(uri))
	if err != nil || u.Scheme != "file" {
		return string(uri)
	}
	return filepath.FromSlash(u.Path)
}

// pathURI is the inverse of uriPath for paths the checker reports.
func pathURI(path string) protocol.DocumentUri {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return protocol.DocumentUri((&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String())
}

func (d *document) setText(text string, version protocol.Integer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.text, d.version, d.analysis = text, version, nil
}

// current returns the analysis of the document's present text.
func (d *document) current(enc encoding) *analysis {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.analysis != nil && d.analysis.lines.enc == enc {
		return d.analysis
	}
	a := analyze(d.path, d.text, enc)
	if a.file != nil {
		d.lastFile = a.file
	}
	d.analysis = a
	return a
}

// fileForCompletion is the present parse, or the last one that worked: while
// a line is being typed the file often does not parse.
func (d *document) fileForCompletion(a *analysis) *lang.File {
	if a.file != nil {
		return a.file
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastFile
}

// analyze parses and checks text exactly as `llmpipe check` does.
func analyze(path, text string, enc encoding) *analysis {
	a := &analysis{text: text, lines: newLines(text, enc)}
	p, err := llmpipe.LoadSource(path, []byte(text))
	if p != nil {
		a.prog, a.diags = p.Program, p.Diagnostics
		// A syntax error leaves a partial tree (or none): the features that
		// walk the tree use the last whole one instead.
		if p.Parsed {
			a.file = p.File
		}
	}
	if err != nil && p == nil {
		a.diags = lang.Diagnostics{{Severity: lang.SeverityError, Message: err.Error()}}
	}
	a.index = buildIndex(a.file, text)
	return a
}

// wordAt returns the dotted name around byte offset off (e.g. "output.age"
// with the cursor anywhere in it), its start offset, and the part of it
// before the cursor.
func wordAt(text string, off int) (word string, start int, before string) {
	off = max(0, min(off, len(text)))
	start = off
	for start > 0 && isNameByte(text[start-1], true) {
		start--
	}
	end := off
	for end < len(text) && isNameByte(text[end], false) {
		end++
	}
	return text[start:end], start, text[start:off]
}

func isNameByte(c byte, dots bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || dots && c == '.'
}
