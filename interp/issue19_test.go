package interp

import (
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/lang"
)

// Issue 19 item 7: 500,000 parentheses in a where (or a template hole)
// crashed check with a stack overflow inside expr's parser. The nesting
// limit answers with a diagnostic before expr sees the text.
func TestIssue19DeepNesting(t *testing.T) {
	const n = 500_000
	deep := strings.Repeat("(", n) + "true" + strings.Repeat(")", n)
	cases := map[string]string{
		"where": "source s {\n  lines = \"in.txt\"\n  where = " + deep + "\n}\n",
		"hole": "source s {\n  lines = \"in.txt\"\n}\n\nstep st {\n  from   = s\n  models = [\"gemini-2.5-flash\"]\n  prompt = \"{{ " +
			strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + " }}\"\n}\n",
		"schema": "schema S {\n  a " + strings.Repeat("[", n) + "string" + strings.Repeat("]", n) + "\n}\n",
		"ifs": "source s {\n  lines = \"in.txt\"\n}\n\nstep st {\n  from   = s\n  models = [\"gemini-2.5-flash\"]\n  prompt = \"\"\"\n" +
			strings.Repeat("{{ if true }}\n", 100_000) + strings.Repeat("{{ end }}\n", 100_000) + "\"\"\"\n}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			f, ds := lang.Parse("in.llmp", []byte(src))
			if !ds.HasErrors() {
				_, ds = Check(f, &Options{Dir: t.TempDir()})
			}
			if len(ds) == 0 || !strings.Contains(ds[0].Message, "nest more than 100 deep") {
				t.Fatalf("want a nesting diagnostic first, got %v", ds)
			}
		})
	}
}

// Issue 19 item 8: checking time grew quadratically with the length of a
// line (a one-line enum of 20,000 values took 10 s, 100,000 over 60 s).
// Each file here is about 1 MB; linear checking takes well under a second
// (BenchmarkCheck1MB), quadratic took minutes. The limit is a wide margin
// for a loaded machine, not a measurement.
func TestIssue19LongLinesAreLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("checks about 3 MB of pipeline text")
	}
	files := big1MB()
	for _, name := range []string{"enum_one_line", "holes", "sequential_ifs"} {
		t.Run(name, func(t *testing.T) {
			done := make(chan lang.Diagnostics, 1)
			dir := t.TempDir()
			go func() {
				f, ds := lang.Parse("big.llmp", []byte(files[name]))
				if !ds.HasErrors() {
					_, ds = Check(f, &Options{Dir: dir})
				}
				done <- ds
			}()
			select {
			case ds := <-done:
				if ds.HasErrors() {
					t.Fatal(ds)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("checking 1 MB took over a minute: not linear")
			}
		})
	}
}
