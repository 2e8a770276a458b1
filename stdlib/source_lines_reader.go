package stdlib

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLine bounds one line of a line-based source. Longer lines become an
// error item (their bytes are skipped, not buffered), so a file without
// newlines cannot take all memory.
const maxLine = 128 << 20

// readBufSize is the bufio buffer of line-based sources: large enough that
// ordinary lines are returned straight from it without a copy.
const readBufSize = 256 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// lineTooLongError reports a line over maxLine.
type lineTooLongError struct{ Size, Max int64 }

func (e *lineTooLongError) Error() string {
	return fmt.Sprintf("line of %d bytes is longer than the limit of %d", e.Size, e.Max)
}

// lineReader yields the lines of a file without their "\n" or "\r\n", with a
// 1-based line number. A leading UTF-8 BOM is dropped.
type lineReader struct {
	r    *bufio.Reader
	max  int64 // maxLine; smaller in tests
	line int
	long []byte // accumulates a line longer than the bufio buffer
}

func newLineReader(r io.Reader) *lineReader {
	br := bufio.NewReaderSize(r, readBufSize)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return &lineReader{r: br, max: maxLine}
}

// next returns the next line; the slice is valid until the next call. At the
// end it returns io.EOF. A too-long line returns a *lineTooLongError with the
// line number advanced past it.
func (lr *lineReader) next() ([]byte, error) {
	if cap(lr.long) > 4<<20 {
		lr.long = nil // do not keep one huge line's buffer for the rest of the file
	}
	lr.long = lr.long[:0]
	var size int64
	tooLong := false
	for {
		b, err := lr.r.ReadSlice('\n')
		switch {
		case err == nil || (errors.Is(err, io.EOF) && (len(b) > 0 || size > 0)):
			lr.line++
			n := size + int64(len(b)) // the line's length without its newline
			if len(b) > 0 && b[len(b)-1] == '\n' {
				n--
			}
			if tooLong || n > lr.max {
				return nil, &lineTooLongError{Size: n, Max: lr.max}
			}
			if len(lr.long) > 0 {
				lr.long = append(lr.long, b...)
				b = lr.long
			}
			return trimEOL(b), nil
		case errors.Is(err, bufio.ErrBufferFull):
			size += int64(len(b))
			if size > lr.max {
				tooLong = true
				lr.long = lr.long[:0]
			}
			if !tooLong {
				lr.long = append(lr.long, b...)
			}
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether b holds only ASCII white space.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v' {
			return false
		}
	}
	return true
}
