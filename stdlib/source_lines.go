package stdlib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// linesSource yields every non-blank line of a text file as
// {"text": line, "line": number}. Lines holding only white space are skipped
// like empty ones: they would only make empty prompts.
type linesSource struct {
	src   *interp.Source
	f     *os.File
	lr    *lineReader
	index int
}

func openLines(src *interp.Source) (*linesSource, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	return &linesSource{src: src, f: f, lr: newLineReader(f)}, nil
}

// Next returns the next non-blank line without its line ending.
func (s *linesSource) Next(ctx context.Context) (*runtime.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		b, err := s.lr.next()
		var long *lineTooLongError
		switch {
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case errors.As(err, &long):
			s.index++
			return &runtime.Item{Index: s.index, Line: s.lr.line, Err: fmt.Errorf("line %d: %w", s.lr.line, err)}, nil
		case err != nil:
			return nil, nextErr(s.src, err)
		}
		if isBlank(b) {
			continue
		}
		s.index++
		return &runtime.Item{
			Index: s.index,
			Line:  s.lr.line,
			Data:  map[string]any{"text": string(b), "line": s.lr.line},
		}, nil
	}
}

// Close closes the file; it may be called more than once.
func (s *linesSource) Close() error { return closeOnce(&s.f) }

// Count returns the number of lines, an upper bound of the items (blank lines
// are counted).
func (s *linesSource) Count(ctx context.Context) (int, error) {
	n, err := countLines(ctx, s.src.Path)
	if err != nil {
		return 0, countErr(s.src, err)
	}
	return n, nil
}
