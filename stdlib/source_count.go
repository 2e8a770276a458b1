package stdlib

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
)

// countBufSize is the read size of countLines: large reads keep the count
// near disk speed.
const countBufSize = 1 << 20

// countLines returns the number of lines in the file at path: its newlines,
// plus one when the last line has no newline. Blank lines are counted too, so
// for sources that skip them the figure is an upper bound (fine for progress).
func countLines(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, countBufSize)
	n := 0
	last := byte('\n')
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		m, err := f.Read(buf)
		if m > 0 {
			n += bytes.Count(buf[:m], []byte{'\n'})
			last = buf[m-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}
