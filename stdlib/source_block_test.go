package stdlib

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestBlockReaderMatchesLineReader: the block reader gives the lines, line
// numbers and too-long errors the line reader gives, whatever the blocks.
func TestBlockReaderMatchesLineReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		var b strings.Builder
		if round%7 == 0 {
			b.WriteString("\xEF\xBB\xBF")
		}
		for range rng.IntN(1500) {
			switch rng.IntN(10) {
			case 0:
				b.WriteString("\n")
			case 1:
				b.WriteString("  \r\n")
			case 2:
				n := rng.IntN(200)
				if rng.IntN(20) == 0 {
					n = rng.IntN(3 * blockBytes)
				}
				b.WriteString(strings.Repeat("x", n) + "\n")
			default:
				fmt.Fprintf(&b, `{"id":"i%d","text":"%s"}`+"\n", rng.IntN(1e6), strings.Repeat("w", rng.IntN(200)))
			}
		}
		if rng.IntN(2) == 0 {
			b.WriteString("last line without newline")
		}
		in := b.String()
		max := int64(rng.IntN(4 * blockBytes))
		lr := newLineReader(strings.NewReader(in))
		lr.max = max
		want := readAllLines(t, func() (string, int, error) {
			b, err := lr.next()
			return string(b), lr.line, err
		})
		br := newBlockReader(newLineReader(strings.NewReader(in)))
		br.lr.max = max
		got := readAllLines(t, br.next)
		if got != want {
			t.Fatalf("round %d: block reader differs from the line reader", round)
		}
	}
}

func readAllLines(t *testing.T, next func() (string, int, error)) string {
	t.Helper()
	var out strings.Builder
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("no end")
		}
		s, line, err := next()
		if errors.Is(err, io.EOF) {
			return out.String()
		}
		if err != nil {
			fmt.Fprintf(&out, "%d err %v\n", line, err)
			if !isTooLong(err) {
				return out.String()
			}
			continue
		}
		fmt.Fprintf(&out, "%d %d %x\n", line, len(s), sha256.Sum256([]byte(s)))
	}
}

// TestBlockReaderDoesNotWait: a line that has come is given at once, not
// held back until a block's worth has.
func TestBlockReaderDoesNotWait(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go pw.Write([]byte("one\ntwo\nthr"))
	br := newBlockReader(newLineReader(pr)) // waits for the first bytes (a BOM?)
	got := make(chan string, 3)
	go func() {
		for {
			s, _, err := br.next()
			if err != nil {
				close(got)
				return
			}
			got <- s
		}
	}()
	for _, want := range []string{"one", "two"} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("got %q, want %q", s, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q did not come before more input", want)
		}
	}
	pw.Write([]byte("ee\n"))
	pw.Close()
	if s := <-got; s != "three" {
		t.Fatalf("got %q, want three", s)
	}
}
