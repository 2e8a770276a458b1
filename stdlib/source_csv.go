package stdlib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// csvSource reads a csv file whose header row names the fields. Every value
// is a string; quoted fields may span lines.
type csvSource struct {
	src    *interp.Source
	f      *os.File
	r      *csv.Reader
	header []string
	index  int
}

func openCSV(src *interp.Source) (*csvSource, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, readBufSize)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // ragged rows become error items, not a dead source
	r.ReuseRecord = true   // values are copied into the item as strings
	header, err := r.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no header row", src.Path)
		}
		return nil, fmt.Errorf("%s: reading the header row: %w", src.Path, err)
	}
	header, err = interp.HeaderNames(header) // the rule the checker types item by
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	return &csvSource{src: src, f: f, r: r, header: header}, nil
}

// Next returns the next record. A row with a different number of fields than
// the header, or one that does not parse (a stray quote), is an item with Err.
func (s *csvSource) Next(ctx context.Context) (*runtime.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		s.index++
		return &runtime.Item{Index: s.index, Line: perr.StartLine, Err: fmt.Errorf("line %d: invalid csv: %w", perr.StartLine, perr.Err)}, nil
	}
	if err != nil {
		return nil, nextErr(s.src, err)
	}
	s.index++
	line, _ := s.r.FieldPos(0)
	it := &runtime.Item{Index: s.index, Line: line}
	if len(rec) != len(s.header) {
		it.Err = fmt.Errorf("line %d: %d fields, but the header has %d", line, len(rec), len(s.header))
		return it, nil
	}
	it.Data = make(map[string]any, len(rec))
	for i, v := range rec {
		if !utf8.ValidString(v) {
			v, it.Repaired = strings.ToValidUTF8(v, "\uFFFD"), true
		}
		it.Data[s.header[i]] = v
	}
	return it, nil
}

// Close closes the file; it may be called more than once.
func (s *csvSource) Close() error { return closeOnce(&s.f) }

// Count returns the number of lines less the header: exact for one-line
// records, an upper bound when quoted fields span lines or lines are blank.
func (s *csvSource) Count(ctx context.Context) (int, error) {
	n, err := countLines(ctx, s.src.Path)
	if err != nil {
		return 0, countErr(s.src, err)
	}
	return max(n-1, 0), nil
}
