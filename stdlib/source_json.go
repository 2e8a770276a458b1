package stdlib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// jsonSource streams the elements of a top-level JSON array with
// json.Decoder, so a large array is never held whole.
type jsonSource struct {
	src   *interp.Source
	f     *os.File
	cr    *newlineCounter
	dec   *json.Decoder
	index int
	done  bool

	scratch []byte // for line
}

func openJSON(src *interp.Source) (*jsonSource, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, readBufSize)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	cr := &newlineCounter{r: br}
	dec := json.NewDecoder(cr)
	dec.UseNumber()
	if err := expectArray(dec); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	return &jsonSource{src: src, f: f, cr: cr, dec: dec}, nil
}

// expectArray reads the opening bracket of the top-level array.
func expectArray(dec *json.Decoder) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return errors.New("empty file, expected a JSON array")
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("expected a JSON array of objects")
	}
	return nil
}

// Next returns the next element. An element that is not an object is an item
// with Err; a syntax error ends the source with an error, because a decoder
// cannot find the next element after one.
func (s *jsonSource) Next(ctx context.Context) (*runtime.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	if !s.dec.More() {
		// The closing bracket, then nothing but white space.
		if _, err := s.dec.Token(); err != nil {
			return nil, nextErr(s.src, s.syntaxErr(err))
		}
		if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
			return nil, nextErr(s.src, fmt.Errorf("%s: unexpected data after the array", s.src.Path))
		}
		s.done = true
		return nil, io.EOF
	}
	line := s.line()
	// Raw first: decoding into values would replace bytes that are not
	// UTF-8 without a word, and they are to be counted.
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		return nil, nextErr(s.src, s.syntaxErr(err))
	}
	s.index++
	it := &runtime.Item{Index: s.index, Line: line}
	if !utf8.Valid(raw) {
		raw, it.Repaired = bytes.ToValidUTF8(raw, []byte(replacementChar)), true
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, nextErr(s.src, s.syntaxErr(err))
	}
	if m, ok := v.(map[string]any); ok {
		if it.Data, it.Err = fitSchema(s.src, normalize(m).(map[string]any)); it.Err != nil {
			it.Err = fmt.Errorf("line %d: element %d: %w", line, s.index, it.Err)
		}
	} else {
		it.Err = fmt.Errorf("line %d: element %d: expected a JSON object, got %s", line, s.index, jsonKind(v))
	}
	return it, nil
}

func (s *jsonSource) syntaxErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: invalid JSON: the array is not closed", s.src.Path)
	}
	return fmt.Errorf("%s: invalid JSON near line %d: %w", s.src.Path, s.line(), err)
}

// line is the 1-based line of the decoder's next value: the newlines read so
// far, less those still buffered in the decoder, plus those in the separator
// (comma and white space) before the value. If the decoder's buffer ends
// inside the separator the figure can be a line short; it is a hint.
func (s *jsonSource) line() int {
	if s.scratch == nil {
		s.scratch = make([]byte, 32<<10)
	}
	r := s.dec.Buffered() // a view of the decoder's buffer, not a read of the file
	n := s.cr.lines
	inSep := true
	for {
		m, err := r.Read(s.scratch)
		chunk := s.scratch[:m]
		n -= bytes.Count(chunk, []byte{'\n'})
		for i := 0; inSep && i < len(chunk); i++ {
			switch chunk[i] {
			case '\n':
				n++
			case ',', ' ', '\t', '\r':
			default:
				inSep = false
			}
		}
		if err != nil || m == 0 {
			return n + 1
		}
	}
}

// Close closes the file; it may be called more than once.
func (s *jsonSource) Close() error { return closeOnce(&s.f) }

// Count decodes the whole array once, without keeping it, and returns the
// number of elements.
func (s *jsonSource) Count(ctx context.Context) (int, error) {
	n, err := countJSON(ctx, s.src.Path)
	if err != nil {
		return 0, countErr(s.src, err)
	}
	return n, nil
}

func countJSON(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, readBufSize)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	dec := json.NewDecoder(br)
	if err := expectArray(dec); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	n := 0
	for dec.More() {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, fmt.Errorf("%s: invalid JSON: %w", path, err)
		}
		n++
	}
	return n, nil
}

// newlineCounter counts the newlines that pass through it.
type newlineCounter struct {
	r     io.Reader
	lines int
}

func (c *newlineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}
