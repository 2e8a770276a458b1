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

// blockReader gives a lineReader's lines as strings, copying them from the
// reader's buffer in blocks of many lines: one allocation per block instead
// of one per line. The lines' strings (and any string sliced from them,
// such as a jsonl item's values) keep their block alive; blocks are small
// enough that the items in flight pin little.
type blockReader struct {
	lr      *lineReader
	scratch []byte        // the next block, being gathered
	blk     string        // the current block
	queue   []pendingLine // the current block's lines, in order
	head    int           // the next of queue to give
	end     error         // io.EOF or a read error, after the queued lines
}

// pendingLine is one line of a block: blk[off:off+n] at a 1-based line,
// or a line too long to give (err).
type pendingLine struct {
	off, n, line int
	err          error
}

// Block bounds: a block is cut after blockBytes of lines or blockLines
// lines, whichever comes first (a longer line makes a block of its own).
const (
	blockBytes = 32 << 10
	blockLines = 512
)

func newBlockReader(lr *lineReader) *blockReader { return &blockReader{lr: lr} }

// next returns the next line and its 1-based number. At the end it
// returns io.EOF; a too-long line returns a *lineTooLongError with its
// number, and the lines after it follow.
func (br *blockReader) next() (string, int, error) {
	if br.head == len(br.queue) {
		if br.end != nil {
			return "", br.lr.line, br.end
		}
		br.fill()
		if br.head == len(br.queue) {
			return "", br.lr.line, br.end
		}
	}
	p := br.queue[br.head]
	br.head++
	if p.err != nil {
		return "", p.line, p.err
	}
	return br.blk[p.off : p.off+p.n], p.line, nil
}

// fill reads the next block of lines, stopping early at a too-long line,
// the end or a read error. Only its first line may wait for the file:
// the rest are lines already whole in the reader's buffer, so a source
// fed slowly (a pipe) gives each line as soon as it comes, as before.
func (br *blockReader) fill() {
	br.queue, br.head = br.queue[:0], 0
	if cap(br.scratch) > 4<<20 {
		br.scratch = nil // do not keep one huge line's buffer for the rest of the file
	}
	br.scratch = br.scratch[:0]
	stopAt := -1 // Buffered() once the whole lines buffered after the first are read
	for len(br.scratch) < blockBytes && len(br.queue) < blockLines {
		if stopAt >= 0 && br.lr.r.Buffered() <= stopAt {
			break
		}
		b, err := br.lr.next()
		if err != nil {
			if isTooLong(err) {
				br.queue = append(br.queue, pendingLine{line: br.lr.line, err: err})
				break
			}
			br.end = err
			break
		}
		br.queue = append(br.queue, pendingLine{off: len(br.scratch), n: len(b), line: br.lr.line})
		br.scratch = append(br.scratch, b...)
		if stopAt < 0 {
			stopAt = br.lr.r.Buffered() - wholeBuffered(br.lr.r)
		}
	}
	br.blk = string(br.scratch)
}

// wholeBuffered is how many of r's buffered bytes are whole lines (up to
// the last newline), looking no further than a block's worth ahead.
func wholeBuffered(r *bufio.Reader) int {
	b, _ := r.Peek(min(r.Buffered(), 2*blockBytes))
	return bytes.LastIndexByte(b, '\n') + 1
}

// isTooLong reports a *lineTooLongError; apart from fill because
// errors.As's target escapes.
func isTooLong(err error) bool {
	var long *lineTooLongError
	return errors.As(err, &long)
}

// isBlank reports whether s holds only ASCII white space.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '\f', '\v':
		default:
			return false
		}
	}
	return true
}
