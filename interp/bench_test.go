package interp

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/lang"
)

// Files of about 1 MB that once took the checker seconds to minutes: the
// lexer, parser and checker must be linear in the size of the file.
// go test -run XXX -bench Check1MB ./interp (figures in docs/benchmarks.md).
func big1MB() map[string]string {
	const mb = 1 << 20
	enum := func() string {
		var b strings.Builder
		b.WriteString("schema S {\n  a ")
		for i := 0; b.Len() < mb; i++ {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprintf(&b, "%q", fmt.Sprintf("v%d", i))
		}
		b.WriteString("\n}\n")
		return b.String()
	}
	step := func(tmpl string) string {
		var b strings.Builder
		b.WriteString("source s {\n  lines = \"in.txt\"\n}\n\nstep st {\n  from   = s\n  models = [\"gemini-2.5-flash\"]\n  prompt = \"\"\"\n")
		for b.Len() < mb {
			b.WriteString(tmpl)
		}
		b.WriteString("    \"\"\"\n}\n")
		return b.String()
	}
	pipeline := func() string {
		src, err := os.ReadFile("../pipelines/extract_people.llmp")
		if err != nil {
			panic(err)
		}
		// Every copy renames its blocks (and the references to them); one
		// config block is allowed, so the copies leave theirs out.
		text := string(src)
		if i := strings.Index(text, "config {"); i >= 0 {
			j := strings.Index(text[i:], "}\n")
			text = text[:i] + text[i+j+2:]
		}
		names := regexp.MustCompile(`\b(people|Person|cheap_first|extract|people_out|people_failed|adult_with_email|bad_age_climbs_with_feedback)\b`)
		var b strings.Builder
		for i := 0; b.Len() < mb; i++ {
			b.WriteString(names.ReplaceAllString(text, fmt.Sprintf("${1}_%d", i)))
			b.WriteString("\n")
		}
		return b.String()
	}
	return map[string]string{
		"enum_one_line":  enum(),
		"sequential_ifs": step("    {{ if item.text != \"\" }}x{{ else if item.line > 2 }}y{{ end }}\n"),
		"holes":          step("    {{ item.text }} and {{ len(item.text) }}\n"),
		"deep_parens":    "source s {\n  lines = \"in.txt\"\n  where = " + strings.Repeat("(", mb/2) + "true" + strings.Repeat(")", mb/2) + "\n}\n",
		"pipelines":      pipeline(),
	}
}

func BenchmarkCheck1MB(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte("{}\n"), 0o644)
	for name, src := range big1MB() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				f, _ := lang.Parse("big.llmp", []byte(src))
				_, ds := Check(f, &Options{Dir: dir})
				if name == "pipelines" && ds.HasErrors() {
					b.Fatal(ds)
				}
			}
		})
	}
}
