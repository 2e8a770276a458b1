package funcs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
)

func byName(t *testing.T, name string) *interp.Func {
	t.Helper()
	for _, f := range All() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no built-in %q", name)
	return nil
}

func TestAllDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range All() {
		if seen[f.Name] {
			t.Errorf("%s registered twice", f.Name)
		}
		seen[f.Name] = true
		if f.Summary == "" || f.Description == "" || f.Example == "" || len(f.Types) == 0 || f.Fn == nil {
			t.Errorf("%s is missing its summary, description, example, types or function", f.Name)
		}
		if !strings.Contains(f.Example, f.Name+"(") {
			t.Errorf("%s's example does not call it: %q", f.Name, f.Example)
		}
	}
	for _, want := range []string{"file", "json", "lines", "truncate", "tokens"} {
		if !seen[want] {
			t.Errorf("missing %s", want)
		}
	}
}

func TestPureFuncs(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		want any
		err  string
	}{
		{"json", []any{map[string]any{"b": 1, "a": "<x>"}}, `{"a":"<x>","b":1}`, ""},
		{"json", []any{[]any{1, "two", nil}}, `[1,"two",null]`, ""},
		{"json", []any{"s"}, `"s"`, ""},
		{"json", []any{func() {}}, nil, "json: json: unsupported type: func()"},
		{"lines", []any{"a\nb\r\nc\n"}, []string{"a", "b", "c"}, ""},
		{"lines", []any{""}, []string{}, ""},
		{"lines", []any{"\n\nx"}, []string{"", "", "x"}, ""},
		{"lines", []any{3}, nil, "lines expects a string, but got int"},
		{"truncate", []any{"hello", 10}, "hello", ""},
		{"truncate", []any{"hello", 5}, "hello", ""},
		{"truncate", []any{"hello world", 5}, "hell…", ""},
		{"truncate", []any{"héllo wörld", 3}, "hé…", ""},
		{"truncate", []any{"abc", 0}, "", ""},
		{"truncate", []any{"abc", "2"}, nil, "truncate expects an integer length, but got string"},
		{"tokens", []any{""}, 0, ""},
		{"tokens", []any{"abcd"}, 1, ""},
		{"tokens", []any{"abcde"}, 2, ""},
		{"tokens", []any{"日本語です"}, 5, ""}, // a token per CJK character (issue 17)
		{"tokens", []any{"a", "b"}, nil, "tokens takes 1 argument, but got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			got, err := byName(t, tt.fn).Fn(&interp.FuncContext{Dir: t.TempDir()}, tt.args...)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s(%v) = %#v, want %#v", tt.fn, tt.args, got, tt.want)
			}
		})
	}
}

func TestFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "pipe")
	must(t, os.MkdirAll(filepath.Join(dir, "docs"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "docs", "a.md"), []byte("inside"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "secret.txt"), []byte("outside"), 0o644))
	must(t, os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(dir, "leak.txt")))
	must(t, os.Symlink(filepath.Join(dir, "docs", "a.md"), filepath.Join(dir, "ok-link.md")))

	tests := []struct {
		path, want, err string
	}{
		{"docs/a.md", "inside", ""},
		{"./docs/../docs/a.md", "inside", ""},
		{"ok-link.md", "inside", ""},
		{"../secret.txt", "", `file "../secret.txt": path leaves the pipeline's folder`},
		{"docs/../../secret.txt", "", `file "docs/../../secret.txt": path leaves the pipeline's folder`},
		{"leak.txt", "", `file "leak.txt": a symbolic link leads outside: path leaves the pipeline's folder`},
		{filepath.Join(root, "secret.txt"), "", "absolute paths are not allowed"},
		{"missing.md", "", `file "missing.md": no such file`},
		{"", "", "file: empty path"},
	}
	f := byName(t, "file")
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := f.Fn(&interp.FuncContext{Dir: dir}, tt.path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				if strings.Contains(tt.err, "leaves") && !errors.Is(err, errOutside) {
					t.Errorf("%v does not wrap errOutside", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
