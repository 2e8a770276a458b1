package stdlib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// jsonlSource reads one JSON object per line.
type jsonlSource struct {
	src   *interp.Source
	f     *os.File
	lr    *lineReader
	index int
}

func openJSONL(src *interp.Source) (*jsonlSource, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	return &jsonlSource{src: src, f: f, lr: newLineReader(f)}, nil
}

// Next returns the next non-blank line as an item; a line that is not one
// JSON object is an item with Err set.
func (s *jsonlSource) Next(ctx context.Context) (*runtime.Item, error) {
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
		it := &runtime.Item{Index: s.index, Line: s.lr.line}
		it.Data, it.Err = decodeObject(b)
		if it.Err != nil {
			it.Err = fmt.Errorf("line %d: %w", s.lr.line, it.Err)
		}
		return it, nil
	}
}

// Close closes the file; it may be called more than once.
func (s *jsonlSource) Close() error { return closeOnce(&s.f) }

// Count returns the number of lines, an upper bound of the items (blank lines
// are counted).
func (s *jsonlSource) Count(ctx context.Context) (int, error) {
	n, err := countLines(ctx, s.src.Path)
	if err != nil {
		return 0, countErr(s.src, err)
	}
	return n, nil
}

// decodeObject decodes b as exactly one JSON object with normalised numbers.
func decodeObject(b []byte) (map[string]any, error) {
	v, err := parseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a JSON object, got %s", jsonKind(v))
	}
	return m, nil
}

// jsonKind names the JSON type of a decoded value for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// closeOnce closes *f and clears it, so a second Close is a no-op.
func closeOnce(f **os.File) error {
	if *f == nil {
		return nil
	}
	err := (*f).Close()
	*f = nil
	return err
}
