package stdlib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// lineSource yields one item per non-blank line of a file; decode turns a
// line into the item's data (jsonl: one JSON object; lines: its text). Lines
// holding only white space are skipped like empty ones: they would only make
// empty prompts or parse errors.
type lineSource struct {
	src    *interp.Source
	f      *os.File
	lr     *blockReader
	index  int
	decode func(text string, line int) (map[string]any, error)
	// item is what Next returns, reused by the next call (see
	// runtime.Source): a fresh one cost an allocation per line.
	item runtime.Item
}

func openLineSource(src *interp.Source, decode func(text string, line int) (map[string]any, error)) (*lineSource, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	return &lineSource{src: src, f: f, lr: newBlockReader(newLineReader(f)), decode: decode}, nil
}

// openLines reads a text file as {"text": line, "line": number} items.
func openLines(src *interp.Source) (*lineSource, error) {
	return openLineSource(src, func(text string, line int) (map[string]any, error) {
		return map[string]any{"text": text, "line": line}, nil
	})
}

// Next returns the next non-blank line as an item; a line that does not
// decode (or is too long) is an item with Err set. The item is valid until
// the next call; its Data is the caller's.
func (s *lineSource) Next(ctx context.Context) (*runtime.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		text, line, err := s.lr.next()
		if err != nil {
			return s.failed(err, line)
		}
		if isBlank(text) {
			continue
		}
		s.index++
		it := &s.item
		*it = runtime.Item{Index: s.index, Line: line}
		if !utf8.ValidString(text) {
			text, it.Repaired = strings.ToValidUTF8(text, replacementChar), true
		}
		it.Data, it.Err = s.decode(text, line)
		if it.Err != nil {
			it.Err = fmt.Errorf("line %d: %w", line, it.Err)
		}
		return it, nil
	}
}

// failed is Next for a line the reader could not give: the end, a line
// too long (an item with Err set) or a read error.
func (s *lineSource) failed(err error, line int) (*runtime.Item, error) {
	switch {
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case isTooLong(err):
		s.index++
		s.item = runtime.Item{Index: s.index, Line: line, Err: fmt.Errorf("line %d: %w", line, err)}
		return &s.item, nil
	}
	return nil, nextErr(s.src, err)
}

// Close closes the file; it may be called more than once.
func (s *lineSource) Close() error { return closeOnce(&s.f) }

// Count returns the number of lines, an upper bound of the items (blank lines
// are counted).
func (s *lineSource) Count(ctx context.Context) (int, error) {
	n, err := countLines(ctx, s.src.Path)
	if err != nil {
		return 0, countErr(s.src, err)
	}
	return n, nil
}

// replacementChar stands in for bytes that are not UTF-8 (an item with
// any is marked Repaired, and counted).
const replacementChar = "\uFFFD"
