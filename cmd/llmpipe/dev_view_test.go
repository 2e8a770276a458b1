package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

func TestDevNaturalLess(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"p2", "p10", true},
		{"p10", "p2", false},
		{"2", "10", true},
		{"a", "b", true},
		{"p1", "p1", false},
		{"p01", "p2", true},
		{"p", "p1", true},
		{"p1a", "p1b", true},
		{"x9", "y1", true},
	}
	for _, tc := range cases {
		if got := devNaturalLess(tc.a, tc.b); got != tc.want {
			t.Errorf("devNaturalLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDevClip(t *testing.T) {
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"this is too long", 8, "this is…"},
		{"ééééé", 3, "éé…"},
	}
	for _, tc := range cases {
		if got := devClip(tc.s, tc.n); got != tc.want {
			t.Errorf("devClip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestFailureText(t *testing.T) {
	cases := []struct {
		name string
		f    *runtime.Failure
		want string
	}{
		{"nil", nil, "failed"},
		{"checks of the last attempt", &runtime.Failure{
			Class: runtime.ClassCheckFailed, Message: "gave up",
			Errors: []runtime.AttemptError{
				{Fields: []interp.FieldError{{Field: "name", Message: "old"}}},
				{Fields: []interp.FieldError{{Field: "age", Message: "too low"}, {Field: "email", Message: "bad"}}},
			},
		}, "check_failed age: too low; email: bad"},
		{"no fields: the message on one line", &runtime.Failure{
			Class: runtime.ClassFatal, Message: "400:\n  bad   request",
		}, "fatal 400: bad request"},
	}
	for _, tc := range cases {
		if got := failureText(tc.f); got != tc.want {
			t.Errorf("%s: failureText = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The collector must copy what it shows when the record is written: the
// runtime hands the same record on to later steps and changes it there.
func TestDevSinkSnapshotsRecord(t *testing.T) {
	c := newDevCollector()
	s, err := c.open(context.Background(), &interp.Sink{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &runtime.Record{ID: "p1", Step: "a", Model: "gemini-2.5-flash", Rung: 1, Attempts: 2,
		Outputs: map[string]any{"a": map[string]any{"x": 1}}}
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	rec.Step, rec.Failed, rec.Outputs["a"] = "b", true, "changed later"
	got := c.snapshot()[devKey{"a", "p1"}]
	want := devItem{Step: "a", ID: "p1", OK: true, Model: "gemini-2.5-flash", Rung: 1, Attempts: 2, Output: `{"x":1}`}
	if got != want {
		t.Errorf("collected %+v, want %+v", got, want)
	}
	if _, ok := c.snapshot()[devKey{"b", "p1"}]; ok {
		t.Error("a record never written for step b was collected")
	}
}

func TestDevProgramReplacesSinks(t *testing.T) {
	a, b := &interp.Step{Name: "a"}, &interp.Step{Name: "b"}
	prog := &interp.Program{Steps: []*interp.Step{a, b}, Sinks: []*interp.Sink{{Name: "file", Path: "/x/out.jsonl", From: b}}}
	view := devProgram(prog)
	if len(prog.Sinks) != 1 {
		t.Fatal("devProgram changed the program it was given")
	}
	var names []string
	for _, s := range view.Sinks {
		if s.Path != "" {
			t.Errorf("sink %s writes %s", s.Name, s.Path)
		}
		names = append(names, s.Name)
		if want := strings.Split(s.Name, ".")[0]; s.From.Name != want {
			t.Errorf("sink %s reads %s", s.Name, s.From.Name)
		}
		if s.Failed != strings.HasSuffix(s.Name, ".failed") {
			t.Errorf("sink %s: Failed = %v", s.Name, s.Failed)
		}
	}
	if got := strings.Join(names, " "); got != "a.dev a.dev.failed b.dev b.dev.failed" {
		t.Errorf("sinks = %s", got)
	}
}

func TestPrintDevRound(t *testing.T) {
	sum := func(ok, failed, attempts, hits, resumed int64, cost float64) *runtime.Summary {
		s := &runtime.Summary{}
		s.Succeeded, s.Failed, s.Attempts, s.CacheHits, s.Resumed, s.Cost = ok, failed, attempts, hits, resumed, cost
		return s
	}
	prev := &devRound{N: 1, Steps: []string{"x"}, Sum: sum(2, 1, 3, 0, 0, 0.01), Items: map[devKey]devItem{
		{"x", "p10"}: {Step: "x", ID: "p10", OK: true, Model: "gemini-2.5-flash-lite", Output: `{"a":1}`},
		{"x", "p2"}:  {Step: "x", ID: "p2", Model: "gemini-2.5-pro", Rung: 2, Attempts: 3, Problem: "check_failed a: too small"},
		{"x", "p3"}:  {Step: "x", ID: "p3", OK: true, Model: "gemini-2.5-flash-lite", Output: `{"a":3}`},
	}}
	next := &devRound{N: 2, Steps: []string{"x"}, Sum: sum(2, 1, 3, 2, 0, 0.0025), Items: map[devKey]devItem{
		{"x", "p10"}: {Step: "x", ID: "p10", Model: "gemini-2.5-flash-lite", Problem: "check_failed a: too big"},
		{"x", "p2"}:  {Step: "x", ID: "p2", OK: true, Model: "gemini-2.5-flash", Rung: 1, Attempts: 2, Cached: true, Output: `{"a":2}`},
		{"x", "p3"}:  {Step: "x", ID: "p3", OK: true, Model: "gemini-2.5-flash-lite", Output: `{"a":33}`},
	}}
	var b bytes.Buffer
	printDevRound(&b, next, prev)
	want := `round 2 · 3 items
  p2   ok      2.5-flash (rung 1) [2 attempts, cached]  {"a":2}
  p3   ok      2.5-flash-lite (rung 0)  {"a":33}
  p10  FAILED  2.5-flash-lite (rung 0)  check_failed a: too big
  now passing: p2
  now failing: p10
  changed output: 1
round 2: ok 2 · failed 1 · calls 1 · cache hits 2 · unchanged 0 · cost $0.0025
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	b.Reset()
	printDevRound(&b, prev, prev)
	if !strings.Contains(b.String(), "  no change since round 1\n") {
		t.Errorf("same round twice should say nothing changed; got:\n%s", b.String())
	}
}

func TestPrintDevRoundNamesStepsWhenSeveral(t *testing.T) {
	r := &devRound{N: 1, Steps: []string{"first", "second"}, Sum: &runtime.Summary{}, Items: map[devKey]devItem{
		{"second", "1"}: {Step: "second", ID: "1", OK: true, Model: "m", Output: `"b"`},
		{"first", "1"}:  {Step: "first", ID: "1", OK: true, Model: "m", Output: `"a"`},
	}}
	var b bytes.Buffer
	printDevRound(&b, r, nil)
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "  1  first   ok") || !strings.HasPrefix(lines[2], "  1  second  ok") {
		t.Errorf("want one line per step in pipeline order; got:\n%s", b.String())
	}
	if strings.Contains(b.String(), "no change") {
		t.Error("first round printed a diff")
	}
}
