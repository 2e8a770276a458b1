package stdlib

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// personStep is a step with an object output, as the checker builds it.
func personStep() *interp.Step {
	str := &interp.Type{Kind: interp.KindString}
	return &interp.Step{Name: "extract", Output: &interp.Schema{Name: "Person", Type: &interp.Type{
		Kind: interp.KindObject,
		Fields: []*interp.Field{
			{Name: "name", Type: str},
			{Name: "age", Type: &interp.Type{Kind: interp.KindInt}},
			{Name: "email", Type: str, Optional: true},
			{Name: "tags", Type: &interp.Type{Kind: interp.KindList, Elem: str}},
			{Name: "score", Type: &interp.Type{Kind: interp.KindFloat}},
		},
	}}}
}

func failedRecord() *runtime.Record {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &runtime.Record{
		ID:      "p-7",
		Item:    map[string]any{"id": "p-7", "text": "no age here"},
		Outputs: map[string]any{"clean": "no age here"},
		Order:   []string{"clean", "extract"},
		Step:    "extract",
		Failed:  true,
		Failure: &runtime.Failure{
			Class:   runtime.ClassCheckFailed,
			Message: "age: must be positive",
			Errors: []runtime.AttemptError{
				{Attempt: 1, Model: "gemini-2.5-flash-lite", Class: runtime.ClassInvalidOutput, Message: "not JSON", At: at},
				{Attempt: 2, Model: "gemini-2.5-flash", Class: runtime.ClassCheckFailed, Message: "age: must be positive",
					Fields: []interp.FieldError{{Field: "age", Message: "must be positive"}}, At: at},
			},
			LastReply: `{"name":"Ann","age":-1}`,
		},
		Model:    "gemini-2.5-flash",
		Rung:     1,
		Attempts: 2,
		Usage:    runtime.Usage{PromptTokens: 200, OutputTokens: 20},
		Cost:     runtime.Dollars(0.0003),
		Plan:     2,
	}
}

func openTestSink(t *testing.T, sink *interp.Sink) runtime.Sink {
	t.Helper()
	s, err := OpenSink(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writeAndClose(t *testing.T, s runtime.Sink, recs ...*runtime.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSinkJSONLExactBytes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out", "deeper", "people.jsonl") // parent dirs are made
	s := openTestSink(t, &interp.Sink{Name: "people_out", Kind: "jsonl", Path: p, From: personStep()})
	writeAndClose(t, s, sampleRecord(), failedRecord())
	want := `{"id":"p-42","item":{"id":"p-42","text":"Ann Lee, 34, <ann@example.com>, likes tea & cake"},` +
		`"extract":{"age":34,"email":"ann@example.com","name":"Ann Lee","tags":["tea","cake"]},"summary":"Ann likes tea.",` +
		`"_meta":{"model":"gemini-2.5-flash","rung":1,"attempts":2,"cost":0.000125,"tokens":{"prompt":120,"output":30,"cached":100,"thinking":5},"plan":1,"cached":false,"from_store":false}}` + "\n" +
		`{"id":"p-7","item":{"id":"p-7","text":"no age here"},"clean":"no age here",` +
		`"error":{"step":"extract","class":"check_failed","message":"age: must be positive","errors":[` +
		`{"attempt":1,"model":"gemini-2.5-flash-lite","class":"invalid_output","message":"not JSON","at":"2026-01-02T03:04:05Z"},` +
		`{"attempt":2,"model":"gemini-2.5-flash","class":"check_failed","message":"age: must be positive","fields":[{"field":"age","message":"must be positive"}],"at":"2026-01-02T03:04:05Z"}],` +
		`"last_reply":"{\"name\":\"Ann\",\"age\":-1}"},` +
		`"_meta":{"model":"gemini-2.5-flash","rung":1,"attempts":2,"cost":0.0003,"tokens":{"prompt":200,"output":20,"cached":0,"thinking":0},"plan":2,"cached":false,"from_store":false}}` + "\n"
	if got := readFile(t, p); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestSinkJSONLStepOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order []string
		want  string
	}{
		{"pipeline order", []string{"zeta", "alpha", "mid"}, `"zeta":3,"alpha":1,"mid":2`},
		{"no order: sorted", nil, `"alpha":1,"mid":2,"zeta":3`},
		{"partial order: rest sorted", []string{"zeta", "gone"}, `"zeta":3,"alpha":1,"mid":2`},
		{"repeated names once", []string{"mid", "mid", "zeta", "alpha"}, `"mid":2,"zeta":3,"alpha":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "o.jsonl")
			s := openTestSink(t, &interp.Sink{Name: "o", Kind: "jsonl", Path: p})
			rec := &runtime.Record{ID: "1", Outputs: map[string]any{"alpha": 1, "mid": 2, "zeta": 3}, Order: tc.order}
			writeAndClose(t, s, rec)
			want := `{"id":"1","item":null,` + tc.want + `,"_meta":`
			if got := readFile(t, p); !strings.HasPrefix(got, want) {
				t.Errorf("got %s\nwant prefix %s", got, want)
			}
		})
	}
}

func TestSinkTruncatesAtOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "o.jsonl")
	if err := os.WriteFile(p, []byte("old run's line\nanother\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTestSink(t, &interp.Sink{Name: "o", Kind: "jsonl", Path: p})
	writeAndClose(t, s, &runtime.Record{ID: "new"})
	if got := readFile(t, p); !strings.HasPrefix(got, `{"id":"new"`) || strings.Count(got, "\n") != 1 {
		t.Errorf("file = %q", got)
	}
}

func TestSinkFlushes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "o.jsonl")
	s := openTestSink(t, &interp.Sink{Name: "o", Kind: "jsonl", Path: p})
	start := time.Now()
	if err := s.Write(context.Background(), &runtime.Record{ID: "1"}); err != nil {
		t.Fatal(err)
	}
	// Not yet on disk: the batch waits for more records (checked only when
	// this goroutine was not descheduled past flushAge on a busy machine)...
	if got := readFile(t, p); got != "" && time.Since(start) < flushAge/2 {
		t.Fatalf("written before the flush: %q", got)
	}
	// ...but no longer than flushAge, with no further Write.
	deadline := time.Now().Add(5 * time.Second)
	for readFile(t, p) == "" {
		if time.Now().After(deadline) {
			t.Fatal("the record never reached the file without Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := readFile(t, p); !strings.HasPrefix(got, `{"id":"1"`) || !strings.HasSuffix(got, "}\n") {
		t.Errorf("file = %q", got)
	}
	// A second record goes out at Close.
	if err := s.Write(context.Background(), &runtime.Record{ID: "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); strings.Count(got, "\n") != 2 {
		t.Errorf("after Close the file has %d lines, want 2", strings.Count(got, "\n"))
	}
	if err := s.Write(context.Background(), &runtime.Record{ID: "3"}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestSinkLargeBatches(t *testing.T) {
	// Enough records to pass flushSize several times, one far larger than a
	// batch: every record arrives once, whole and in order.
	p := filepath.Join(t.TempDir(), "o.jsonl")
	s := openTestSink(t, &interp.Sink{Name: "o", Kind: "jsonl", Path: p})
	var recs []*runtime.Record
	for i := range 3000 {
		text := strings.Repeat("x", i%200)
		if i == 1500 {
			text = strings.Repeat("y", 3*flushSize)
		}
		recs = append(recs, &runtime.Record{ID: strconv.Itoa(i), Outputs: map[string]any{"s": text}})
	}
	writeAndClose(t, s, recs...)
	lines := strings.Split(strings.TrimSuffix(readFile(t, p), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines, want %d", len(lines), len(recs))
	}
	for i, l := range lines {
		var v struct {
			ID string `json:"id"`
			S  string `json:"s"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if v.ID != strconv.Itoa(i) || v.S != recs[i].Outputs["s"] {
			t.Fatalf("line %d holds record %s", i+1, v.ID)
		}
	}
}

func TestSinkCSV(t *testing.T) {
	textStep := &interp.Step{Name: "summary"}
	for _, tc := range []struct {
		name string
		sink *interp.Sink
		recs []*runtime.Record
		want string
	}{
		{
			name: "object output",
			sink: &interp.Sink{Name: "c", Kind: "csv", From: personStep()},
			recs: []*runtime.Record{
				{ID: "1", Outputs: map[string]any{"extract": map[string]any{"name": "Ann, \"A\" Lee", "age": 34, "tags": []any{"a", "b<c"}, "score": 0.5}}},
				{ID: "2", Outputs: map[string]any{"extract": map[string]any{"name": "Bob\nSmith", "age": 40, "email": "b@x.org", "tags": []any{}, "score": 1e21}}},
			},
			want: "id,extract.name,extract.age,extract.email,extract.tags,extract.score\n" +
				"1,\"Ann, \"\"A\"\" Lee\",34,,\"[\"\"a\"\",\"\"b<c\"\"]\",0.5\n" +
				"2,\"Bob\nSmith\",40,b@x.org,[],1e+21\n",
		},
		{
			name: "text output",
			sink: &interp.Sink{Name: "c", Kind: "csv", From: textStep},
			recs: []*runtime.Record{{ID: "1", Outputs: map[string]any{"summary": "short, sweet"}}, {ID: "2", Outputs: map[string]any{}}},
			want: "id,summary\n1,\"short, sweet\"\n2,\n",
		},
		{
			name: "failures",
			sink: &interp.Sink{Name: "c", Kind: "csv", From: personStep(), Failed: true},
			recs: []*runtime.Record{failedRecord(), {ID: "9", Failed: true, Failure: &runtime.Failure{Class: runtime.ClassFatal, Message: "line 3: invalid JSON", Line: 3}}},
			want: "id,step,class,message,last_reply\n" +
				"p-7,extract,check_failed,age: must be positive,\"{\"\"name\"\":\"\"Ann\"\",\"\"age\"\":-1}\"\n" +
				"9,extract,fatal,line 3: invalid JSON,\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.sink.Path = filepath.Join(t.TempDir(), "out.csv")
			s := openTestSink(t, tc.sink)
			// Opening writes nothing: the header comes with the first
			// record (or at Close), so a run that cannot start changes
			// no output (issue 19 item 1).
			if got := readFile(t, tc.sink.Path); got != "" {
				t.Errorf("file at open = %q, want it untouched", got)
			}
			writeAndClose(t, s, tc.recs...)
			got := readFile(t, tc.sink.Path)
			if got != tc.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tc.want)
			}
			rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
			if err != nil || len(rows) != len(tc.recs)+1 {
				t.Errorf("reading back: %d rows, %v", len(rows), err)
			}
		})
	}
}

func TestSinkErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sink *interp.Sink
		want string
	}{
		{&interp.Sink{Name: "s", Kind: "xml", Path: filepath.Join(dir, "x")}, `opening sink "s": unknown sink kind "xml"`},
		{&interp.Sink{Name: "s", Kind: "csv", Path: filepath.Join(dir, "x.csv")}, `opening sink "s": sink has no step to read from`},
		{&interp.Sink{Name: "s", Kind: "jsonl", Path: filepath.Join(blocker, "x.jsonl")}, `opening sink "s": mkdir ` + blocker + `: not a directory`},
	} {
		_, err := OpenSink(context.Background(), tc.sink)
		if err == nil || err.Error() != tc.want {
			t.Errorf("error = %v, want %s", err, tc.want)
		}
	}
}

func TestSinkJSONLRoundTrip(t *testing.T) {
	// What a sink writes, a jsonl source reads back as the same values.
	dir := t.TempDir()
	p := filepath.Join(dir, "o.jsonl")
	s := openTestSink(t, &interp.Sink{Name: "o", Kind: "jsonl", Path: p})
	writeAndClose(t, s, sampleRecord())
	src, err := OpenSource(context.Background(), &interp.Source{Name: "back", Kind: "jsonl", Path: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	it, err := src.Next(context.Background())
	if err != nil || it.Err != nil {
		t.Fatal(err, it.Err)
	}
	ex := it.Data["extract"].(map[string]any)
	if it.Data["id"] != "p-42" || ex["age"] != 34 || ex["name"] != "Ann Lee" || it.Data["summary"] != "Ann likes tea." {
		t.Errorf("read back %v", it.Data)
	}
	if m := it.Data["_meta"].(map[string]any); m["cost"] != 0.000125 || m["rung"] != 1 {
		t.Errorf("meta read back %v", m)
	}
	if !bytes.HasSuffix([]byte(readFile(t, p)), []byte("}\n")) {
		t.Error("record does not end in a newline")
	}
}
