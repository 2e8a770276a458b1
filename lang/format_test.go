package lang

import (
	"os"
	"path/filepath"
	"testing"
)

// checkFormat asserts that formatting f keeps its meaning and that a second
// format changes nothing.
func checkFormat(t *testing.T, f *File) {
	t.Helper()
	out := Format(f)
	g, diags := Parse(f.Name, out)
	if len(diags) > 0 {
		t.Fatalf("formatted output does not parse: %v\n%s", diags, out)
	}
	if a, b := dump(f, false), dump(g, false); a != b {
		t.Fatalf("format changed the meaning\n--- before ---\n%s--- after ---\n%s--- output ---\n%s", a, b, out)
	}
	if again := Format(g); string(again) != string(out) {
		t.Fatalf("format is not idempotent\n--- first ---\n%s--- second ---\n%s", out, again)
	}
}

// TestFormatPipelines: the example pipelines are in canonical form.
func TestFormatPipelines(t *testing.T) {
	paths, err := filepath.Glob("../pipelines/*.llmp")
	if err != nil || len(paths) < 3 {
		t.Fatalf("want the example pipelines, got %v %v", paths, err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, diags := Parse(path, src)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			checkPositions(t, f)
			checkFormat(t, f)
			if got := Format(f); string(got) != string(src) {
				t.Errorf("Format changed %s:\n%s", path, got)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "indentation and alignment",
			in:   "source s {\n\tjsonl = \"a\"\n        id = item.id\n    where=item.x\n}\n",
			want: "source s {\n  jsonl = \"a\"\n  id    = item.id\n  where = item.x\n}\n",
		},
		{
			name: "blank lines collapse and trim",
			in:   "\n\nconfig {\n\n\n  a = 1\n\n\n\n  bb = 2\n\n}\nsink x {\n  from = s\n}\n\n\n",
			want: "config {\n  a = 1\n\n  bb = 2\n}\n\nsink x {\n  from = s\n}\n",
		},
		{
			name: "comments break alignment runs and stay attached",
			in:   "# about config\nconfig {\n  a = 1 # one\n  # own line\n  bbb = 2\n  cc = 3   # three\n  d = 4 # four\n}\n",
			want: "# about config\nconfig {\n  a = 1 # one\n  # own line\n  bbb = 2\n  cc  = 3   # three\n  d   = 4   # four\n}\n",
		},
		{
			name: "multi-line list",
			in:   "ladder l = [a,\n      b, c]\n",
			want: "ladder l = [\n  a,\n  b,\n  c,\n]\n",
		},
		{
			name: "list with a comment is kept as written",
			in:   "step s {\n    models = [a, # first\n      b]\n}\n",
			want: "step s {\n  models = [a, # first\n    b]\n}\n",
		},
		{
			name: "triple string re-indented",
			in:   "step s {\nprompt = \"\"\"\n        a\n          b\n        \"\"\"\n}\n",
			want: "step s {\n  prompt = \"\"\"\n    a\n      b\n    \"\"\"\n}\n",
		},
		{
			name: "triple string that must stay as written",
			in:   "step s {\n  prompt = \"\"\"\n      a\n      b\"\"\"\n}\n",
			want: "step s {\n  prompt = \"\"\"\n    a\n    b\"\"\"\n}\n",
		},
		{
			name: "multi-line expression shifts with its entry",
			in:   "source s {\n      where = (a &&\n        b)\n}\n",
			want: "source s {\n  where = (a &&\n    b)\n}\n",
		},
		{
			name: "one-line blocks open up; empty bodies close",
			in:   "config { workers = 16 }\nstep s { retry {\n} }\n",
			want: "config {\n  workers = 16\n}\n\nstep s {\n  retry {}\n}\n",
		},
		{
			name: "header and trailing comments on braces",
			in:   "step s {   # the step\n  retry { # r\n    attempts = 1\n  } # end retry\n} # end\n",
			want: "step s {   # the step\n  retry { # r\n    attempts = 1\n  } # end retry\n} # end\n",
		},
		{
			name: "schema columns",
			in:   "schema P {\nname string \"n\"\n  email_address string? \"e\"\n  tags [string]\n\n  level \"a\"|\"b\" \"lvl\"\n}\n",
			want: "schema P {\n  name          string   \"n\"\n  email_address string?  \"e\"\n  tags          [string]\n\n  level \"a\" | \"b\" \"lvl\"\n}\n",
		},
		{
			name: "inline object types",
			in:   "schema P {\n  addr { street string\n  zip int }?  # where\n  n int\n}\n",
			want: "schema P {\n  addr {\n    street string\n    zip    int\n  }?  # where\n  n int\n}\n",
		},
		{
			name: "CRLF becomes LF",
			in:   "config {\r\n  a = 1\r\n  prompt = \"\"\"\r\n    x\r\n    \"\"\"\r\n}\r\n",
			want: "config {\n  a = 1\n  prompt = \"\"\"\n    x\n    \"\"\"\n}\n",
		},
		{
			name: "top-level comments between blocks",
			in:   "config {\n}\n# before s\n\n\n# attached to s\nstep s {\n}\n# last",
			want: "config {}\n\n# before s\n\n# attached to s\nstep s {}\n\n# last\n",
		},
		{
			name: "checks keep their spacing",
			in:   "step s {\n    check a \"x\":   e1\n  check \"yy\":  e2    # c\n}\n",
			want: "step s {\n  check a \"x\":   e1\n  check \"yy\":  e2    # c\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags := Parse("in.llmp", []byte(tt.in))
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			if got := string(Format(f)); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			checkFormat(t, f)
		})
	}
}
