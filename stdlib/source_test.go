package stdlib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// dump renders the items of a source one per line, "index:line data" or
// "index:line error: message", so tests compare whole outputs.
func dump(t *testing.T, s runtime.Source) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("source does not end")
		}
		it, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(&b, "fatal: %v\n", err)
			break
		}
		if it.Err != nil {
			fmt.Fprintf(&b, "%d:%d error: %v\n", it.Index, it.Line, it.Err)
			continue
		}
		data, err := json.Marshal(it.Data)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d:%d %s\n", it.Index, it.Line, data)
	}
	// After the end the source keeps saying so.
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) && !strings.Contains(b.String(), "fatal") {
		t.Errorf("Next after the end: %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type sourceCase struct {
	name    string
	content string
	want    string // dump output, or
	openErr string // a substring of the error from OpenSource
	count   int    // Count's answer (checked when want is set)
}

func runSourceCases(t *testing.T, kind, ext string, cases []sourceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "in."+ext, tc.content)
			src := &interp.Source{Name: "in", Kind: kind, Path: p}
			s, err := OpenSource(context.Background(), src)
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("OpenSource error = %v, want it to contain %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.(runtime.Counter).Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.count {
				t.Errorf("Count = %d, want %d", n, tc.count)
			}
			if got := dump(t, s); got != tc.want {
				t.Errorf("items:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestSourceJSONL(t *testing.T) {
	huge := strings.Repeat("x", 1<<20+17) // larger than the bufio buffer
	runSourceCases(t, "jsonl", "jsonl", []sourceCase{
		{name: "good", content: `{"id":1,"name":"Ann"}` + "\n" + `{"id":2,"name":"Bob"}` + "\n",
			want: "1:1 {\"id\":1,\"name\":\"Ann\"}\n2:2 {\"id\":2,\"name\":\"Bob\"}\n", count: 2},
		{name: "no final newline", content: `{"a":1}` + "\n" + `{"a":2}`,
			want: "1:1 {\"a\":1}\n2:2 {\"a\":2}\n", count: 2},
		{name: "empty file", content: "", want: "", count: 0},
		{name: "blank lines skipped", content: "\n  \n{\"a\":1}\n\r\n\t\n{\"a\":2}\n\n",
			want: "1:3 {\"a\":1}\n2:6 {\"a\":2}\n", count: 7},
		{name: "crlf and bom", content: "\ufeff{\"a\":\"x\"}\r\n{\"a\":\"y\"}\r\n",
			want: "1:1 {\"a\":\"x\"}\n2:2 {\"a\":\"y\"}\n", count: 2},
		{name: "malformed lines go on", content: "{\"a\":1}\nnot json\n[1,2]\n{\"a\":2} trailing\n{\"a\":\n\"str\"\n{\"a\":3}\n",
			want: "1:1 {\"a\":1}\n" +
				"2:2 error: line 2: invalid JSON: invalid character 'o' in literal null at column 2\n" +
				"3:3 error: line 3: expected a JSON object, got an array\n" +
				"4:4 error: line 4: invalid JSON: unexpected data after the value at column 9\n" +
				"5:5 error: line 5: invalid JSON: unexpected end of line looking for a value at column 6\n" +
				"6:6 error: line 6: expected a JSON object, got a string\n" +
				"7:7 {\"a\":3}\n", count: 7},
		{name: "numbers", content: `{"i":42,"neg":-7,"f":1.5,"e":1e3,"big":123456789012345678901234,"max":9223372036854775807,"nested":{"n":[1,2.5]}}` + "\n",
			want: "1:1 {\"big\":1.2345678901234569e+23,\"e\":1000,\"f\":1.5,\"i\":42,\"max\":9223372036854775807,\"neg\":-7,\"nested\":{\"n\":[1,2.5]}}\n", count: 1},
		{name: "huge line", content: `{"a":1}` + "\n" + `{"big":"` + huge + `"}` + "\n" + `{"a":2}` + "\n",
			want: "1:1 {\"a\":1}\n2:2 {\"big\":\"" + huge + "\"}\n3:3 {\"a\":2}\n", count: 3},
	})
}

func TestSourceJSONLNumberTypes(t *testing.T) {
	p := writeFile(t, t.TempDir(), "n.jsonl", `{"i":42,"f":1.5,"e":2e2,"big":18446744073709551616,"s":"7"}`+"\n")
	s, err := OpenSource(context.Background(), &interp.Source{Name: "n", Kind: "jsonl", Path: p})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	it, err := s.Next(context.Background())
	if err != nil || it.Err != nil {
		t.Fatal(err, it.Err)
	}
	want := map[string]any{"i": 42, "f": 1.5, "e": 200.0, "big": 18446744073709551616.0, "s": "7"}
	for k, v := range want {
		if it.Data[k] != v {
			t.Errorf("%s = %#v (%T), want %#v (%T)", k, it.Data[k], it.Data[k], v, v)
		}
	}
}

func TestSourceLines(t *testing.T) {
	runSourceCases(t, "lines", "txt", []sourceCase{
		{name: "good", content: "first\nsecond\n", want: "1:1 {\"line\":1,\"text\":\"first\"}\n2:2 {\"line\":2,\"text\":\"second\"}\n", count: 2},
		{name: "blank, crlf, bom, no final newline", content: "\ufeffa\r\n\r\n   \nb  \r\nc",
			want: "1:1 {\"line\":1,\"text\":\"a\"}\n2:4 {\"line\":4,\"text\":\"b  \"}\n3:5 {\"line\":5,\"text\":\"c\"}\n", count: 5},
		{name: "empty file", content: "", want: "", count: 0},
		{name: "only newlines", content: "\n\n\n", want: "", count: 3},
	})
}

func TestSourceCSV(t *testing.T) {
	runSourceCases(t, "csv", "csv", []sourceCase{
		{name: "good", content: "id,body\n1,hello\n2,world\n",
			want: "1:2 {\"body\":\"hello\",\"id\":\"1\"}\n2:3 {\"body\":\"world\",\"id\":\"2\"}\n", count: 2},
		{name: "bom crlf and spaced header", content: "\ufeffid, body\r\n1,hi\r\n",
			want: "1:2 {\"body\":\"hi\",\"id\":\"1\"}\n", count: 1},
		{name: "quoted multi-line", content: "id,body\n1,\"line one\nline two, with comma\"\n2,\"say \"\"hi\"\"\"\n",
			want: "1:2 {\"body\":\"line one\\nline two, with comma\",\"id\":\"1\"}\n2:4 {\"body\":\"say \\\"hi\\\"\",\"id\":\"2\"}\n", count: 3},
		{name: "ragged rows go on", content: "a,b\n1,2\n3\n4,5,6\n7,8\n",
			want: "1:2 {\"a\":\"1\",\"b\":\"2\"}\n2:3 error: line 3: 1 fields, but the header has 2\n3:4 error: line 4: 3 fields, but the header has 2\n4:5 {\"a\":\"7\",\"b\":\"8\"}\n", count: 4},
		{name: "bad quote goes on", content: "a,b\n1,x\"y\n2,3\n",
			want: "1:2 error: line 2: invalid csv: bare \" in non-quoted-field\n2:3 {\"a\":\"2\",\"b\":\"3\"}\n", count: 2},
		{name: "header only", content: "a,b\n", want: "", count: 0},
		{name: "empty file", content: "", openErr: "no header row"},
		{name: "duplicate header", content: "a,b,a\n1,2,3\n", openErr: `header names "a" twice (columns 1 and 3)`},
		{name: "empty header name", content: "a,,c\n", openErr: "header column 2 has no name"},
	})
}

func TestSourceJSON(t *testing.T) {
	runSourceCases(t, "json", "json", []sourceCase{
		{name: "pretty", content: "[\n  {\"a\": 1},\n  {\n    \"a\": 2.5\n  },\n  \"oops\",\n  {\"a\": \"x\"}\n]\n",
			want: "1:2 {\"a\":1}\n2:3 {\"a\":2.5}\n3:6 error: line 6: element 3: expected a JSON object, got a string\n4:7 {\"a\":\"x\"}\n", count: 4},
		{name: "one line with bom", content: "\ufeff[{\"a\":1},{\"a\":2}]",
			want: "1:1 {\"a\":1}\n2:1 {\"a\":2}\n", count: 2},
		{name: "empty array", content: "[]\n", want: "", count: 0},
		{name: "not an array", content: "{\"a\":1}\n", openErr: "expected a JSON array of objects"},
		{name: "empty file", content: "", openErr: "empty file, expected a JSON array"},
	})
}

func TestSourceJSONBroken(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"syntax error", "[{\"a\":1},\n{\"a\" 2}]", "1:1 {\"a\":1}\nfatal: reading source \"in\": %s: invalid JSON near line 2: invalid character '2' after object key\n"},
		{"unclosed", "[{\"a\":1}", "1:1 {\"a\":1}\nfatal: reading source \"in\": %s: invalid JSON: the array is not closed\n"},
		{"trailing data", "[{\"a\":1}] {}", "1:1 {\"a\":1}\nfatal: reading source \"in\": %s: unexpected data after the array\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "in.json", tc.content)
			s, err := OpenSource(context.Background(), &interp.Source{Name: "in", Kind: "json", Path: p})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := dump(t, s), fmt.Sprintf(tc.want, p); got != want {
				t.Errorf("items:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSourceFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.md", "b.txt", "sub/c.md", "sub/deep/d.md", "sub/deep/e.txt", "other/f.md", "sub.md/g.txt"} {
		writeFile(t, dir, name, "text of "+name)
	}
	if err := os.MkdirAll(filepath.Join(dir, "dir.md"), 0o755); err != nil { // a directory that matches is not an item
		t.Fatal(err)
	}
	for _, tc := range []struct{ glob, want string }{
		{"*.md", "a.md"},
		{"**/*.md", "a.md other/f.md sub/c.md sub/deep/d.md"},
		{"sub/**/*.md", "sub/c.md sub/deep/d.md"},
		{"sub/**", "sub/c.md sub/deep/d.md sub/deep/e.txt"},
		{"**/deep/*", "sub/deep/d.md sub/deep/e.txt"},
		{"*/*.txt", "sub.md/g.txt"},
		{"sub/*/?.md", "sub/deep/d.md"},
		{"[ab].*", "a.md b.txt"},
		{"b.txt", "b.txt"},
	} {
		t.Run(tc.glob, func(t *testing.T) {
			s, err := OpenSource(context.Background(), &interp.Source{Name: "docs", Kind: "files", Path: filepath.Join(dir, tc.glob)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			n, _ := s.(runtime.Counter).Count(context.Background())
			var got []string
			for i := 1; ; i++ {
				it, err := s.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil || it.Err != nil {
					t.Fatal(err, it.Err)
				}
				rel, _ := filepath.Rel(dir, it.Data["path"].(string))
				rel = filepath.ToSlash(rel)
				if it.Index != i || it.Data["name"] != filepath.Base(rel) || it.Data["text"] != "text of "+rel {
					t.Errorf("item %d = %v", i, it)
				}
				got = append(got, rel)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("files = %q, want %q", g, tc.want)
			}
			if n != len(got) {
				t.Errorf("Count = %d, want %d", n, len(got))
			}
		})
	}
	for _, tc := range []struct{ glob, want string }{
		{"*.pdf", "no files match"},
		{"nodir/**/*.md", "no files match"},
		{"missing.md", "no such file or directory"},
		{"[a.md", "syntax error in pattern"},
	} {
		t.Run("error "+tc.glob, func(t *testing.T) {
			_, err := OpenSource(context.Background(), &interp.Source{Name: "docs", Kind: "files", Path: filepath.Join(dir, tc.glob)})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `opening source "docs": `) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSourceFilesTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", "small")
	big := filepath.Join(dir, "b.txt")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFileSize + 1); err != nil { // sparse: cheap to make
		t.Fatal(err)
	}
	f.Close()
	writeFile(t, dir, "c.txt", "after")
	s, err := OpenSource(context.Background(), &interp.Source{Name: "docs", Kind: "files", Path: filepath.Join(dir, "*.txt")})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("1:0 {\"name\":\"a.txt\",\"path\":%q,\"text\":\"small\"}\n2:0 error: %s: larger than 32 MiB\n3:0 {\"name\":\"c.txt\",\"path\":%q,\"text\":\"after\"}\n",
		filepath.Join(dir, "a.txt"), big, filepath.Join(dir, "c.txt"))
	if got := dump(t, s); got != want {
		t.Errorf("items:\n%s\nwant:\n%s", got, want)
	}
}

func TestSourceMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range []string{"jsonl", "csv", "lines", "json"} {
		p := filepath.Join(dir, "people."+kind)
		_, err := OpenSource(context.Background(), &interp.Source{Name: "people", Kind: kind, Path: p})
		want := `opening source "people": open ` + p + `: no such file or directory`
		if err == nil || err.Error() != want {
			t.Errorf("%s: error = %v, want %s", kind, err, want)
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: error does not wrap os.ErrNotExist", kind)
		}
	}
	if _, err := OpenSource(context.Background(), &interp.Source{Name: "x", Kind: "xml", Path: "/x"}); err == nil {
		t.Error("unknown kind: no error")
	}
}

func TestSourceCancelled(t *testing.T) {
	p := writeFile(t, t.TempDir(), "a.jsonl", "{\"a\":1}\n")
	s, err := OpenSource(context.Background(), &interp.Source{Name: "a", Kind: "jsonl", Path: p})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next on a cancelled context: %v", err)
	}
}

func TestLineReaderTooLong(t *testing.T) {
	// A line past the limit is skipped without buffering it, and the lines
	// after it are read normally; the limit is lowered to keep this quick.
	const max = 3*readBufSize + 100
	for _, n := range []int{max - 1, max, max + 1, 5 * readBufSize} {
		r := io.MultiReader(strings.NewReader("a\n"), io.LimitReader(zeros{}, int64(n)), strings.NewReader("\nb\n"))
		lr := newLineReader(r)
		lr.max = max
		var got []string
		for {
			b, err := lr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			var long *lineTooLongError
			if errors.As(err, &long) {
				got = append(got, fmt.Sprintf("%d:too long %d", lr.line, long.Size))
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > 10 {
				got = append(got, fmt.Sprintf("%d:%d bytes", lr.line, len(b)))
			} else {
				got = append(got, fmt.Sprintf("%d:%s", lr.line, b))
			}
		}
		want := fmt.Sprintf("1:a 2:%d bytes 3:b", n)
		if n > max {
			want = fmt.Sprintf("1:a 2:too long %d 3:b", n)
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("line of %d: lines = %q, want %q", n, g, want)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

// personIn is the schema of the schema-source tests: {name string, age
// int, score float?, tags [string]?}.
var personIn = &interp.Schema{Name: "PersonIn", Type: &interp.Type{Kind: interp.KindObject, Fields: []*interp.Field{
	{Name: "name", Type: &interp.Type{Kind: interp.KindString}},
	{Name: "age", Type: &interp.Type{Kind: interp.KindInt}},
	{Name: "score", Type: &interp.Type{Kind: interp.KindFloat}, Optional: true},
	{Name: "tags", Type: &interp.Type{Kind: interp.KindList, Elem: &interp.Type{Kind: interp.KindString}}, Optional: true},
}}}

// TestSourceSchema: with schema = NAME, an item that does not fit is a
// failed item naming the field, and the source goes on; numbers read as
// the schema's types (30.0 is an int, 2 a float); keys the schema does not
// declare are kept; absent optional fields are nil.
func TestSourceSchema(t *testing.T) {
	jsonl := `{"name":"Ann","age":34,"extra":"kept"}` + "\n" +
		`{"name":"Bob","age":"old"}` + "\n" +
		`{"name":"Cy","age":30.0,"score":2,"tags":["a"]}` + "\n" +
		`{"age":5}` + "\n" +
		`{"name":"Di","age":3.5}` + "\n" +
		`{"name":"Ed","age":1,"tags":[1]}` + "\n" +
		`{"name":null,"age":1}` + "\n" +
		`not json` + "\n"
	wantJSONL := `1:1 {"age":34,"extra":"kept","name":"Ann","score":null,"tags":null}
2:2 error: line 2: the item does not fit schema "PersonIn": field "age" must be an integer, but got the string "old"
3:3 {"age":30,"name":"Cy","score":2,"tags":["a"]}
4:4 error: line 4: the item does not fit schema "PersonIn": field "name" is missing
5:5 error: line 5: the item does not fit schema "PersonIn": field "age" must be an integer, but got 3.5
6:6 error: line 6: the item does not fit schema "PersonIn": field "tags", item 1 must be a string, but got 1
7:7 error: line 7: the item does not fit schema "PersonIn": field "name" must not be null
8:8 error: line 8: invalid JSON: invalid character 'o' in literal null at column 2
`
	json := "[\n" + `{"name":"Ann","age":34},` + "\n" + `{"name":"Bob","age":"old"},` + "\n" + `{"name":"Cy","age":30.0}` + "\n]\n"
	wantJSON := `1:2 {"age":34,"name":"Ann","score":null,"tags":null}
2:3 error: line 3: element 2: the item does not fit schema "PersonIn": field "age" must be an integer, but got the string "old"
3:4 {"age":30,"name":"Cy","score":null,"tags":null}
`
	for _, tc := range []struct{ kind, content, want string }{
		{"jsonl", jsonl, wantJSONL},
		{"json", json, wantJSON},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "in."+tc.kind, tc.content)
			s, err := OpenSource(context.Background(), &interp.Source{Name: "in", Kind: tc.kind, Path: p, Schema: personIn, Item: personIn.Type})
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(t, s); got != tc.want {
				t.Errorf("items:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}

	// The typed values are the schema's Go types, as expressions expect.
	p := writeFile(t, t.TempDir(), "in.jsonl", `{"name":"Cy","age":30.0,"score":2}`+"\n")
	s, err := OpenSource(context.Background(), &interp.Source{Name: "in", Kind: "jsonl", Path: p, Schema: personIn})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	it, err := s.Next(context.Background())
	if err != nil || it.Err != nil {
		t.Fatal(err, it.Err)
	}
	if it.Data["age"] != 30 || it.Data["score"] != 2.0 {
		t.Errorf("age = %#v, score = %#v; want int 30 and float64 2", it.Data["age"], it.Data["score"])
	}
}
