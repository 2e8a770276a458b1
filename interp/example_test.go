package interp_test

import (
	"fmt"
	"os"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
)

func ExampleCheck() {
	src := []byte(`source tickets {
  csv = "tickets.csv"
  id  = item.ticket_id
}

schema Triage {
  severity "low" | "medium" | "high"
}

step triage {
  from   = tickets
  models = "gemini-2.5-flash-lite"
  output = Triage
  prompt = "Triage: {{ item.body }}"
  check severity "must not be low for outages": !(item.body contains "down") || output.severity != "low"
}
`)
	f, diags := lang.Parse("triage.llmp", src)
	prog, more := interp.Check(f, &interp.Options{Dir: "/srv/pipelines"})
	diags = append(diags, more...)
	if diags.HasErrors() {
		diags.Fprint(os.Stdout, map[string][]byte{"triage.llmp": src}, lang.PrintOptions{})
		return
	}
	step := prog.Steps[0]
	prompt, _ := step.Prompt.Render(map[string]any{"item": map[string]any{"body": "site is down"}})
	fmt.Println(prompt)
	reply, _ := step.Output.ParseReply(`Here you go: {"severity": "high"}`)
	fmt.Println(reply.Value, reply.Recovered)
	ok, _ := step.Checks[0].Expr.EvalBool(map[string]any{
		"item":   map[string]any{"body": "site is down"},
		"output": reply.Value,
	})
	fmt.Println(ok)
	// Output:
	// Triage: site is down
	// map[severity:high] true
	// true
}

func ExampleCheck_diagnostics() {
	src := []byte(`ladder cheap_first = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]

step s {
  from   = nowhere
  models = cheap_frist
  prompt = "hi"
}
`)
	f, _ := lang.Parse("p.llmp", src)
	_, diags := interp.Check(f, nil)
	diags.Fprint(os.Stdout, map[string][]byte{"p.llmp": src}, lang.PrintOptions{})
	// Output:
	// p.llmp:4:12: error: unknown source or step "nowhere"
	//   |
	// 4 |   from   = nowhere
	//   |            ^^^^^^^
	//   = help: from names a source or a step
	// p.llmp:5:12: error: unknown ladder or model "cheap_frist"
	//   |
	// 5 |   models = cheap_frist
	//   |            ^^^^^^^^^^^
	//   = help: did you mean "cheap_first"?
}
