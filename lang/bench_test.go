package lang

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// bigFile is about 1,200 lines: the first example pipeline twenty times,
// with the block names made unique.
func bigFile(tb testing.TB) []byte {
	src, err := os.ReadFile("../pipelines/extract_people.llmp")
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	for i := range 20 {
		b.Write(bytes.ReplaceAll(src, []byte(" {\n"), []byte(fmt.Sprintf("_%d {\n", i))))
		b.WriteString("\n")
	}
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	src := bigFile(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, diags := Parse("big.llmp", src); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	f, diags := Parse("big.llmp", bigFile(b))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	for b.Loop() {
		Format(f)
	}
}
