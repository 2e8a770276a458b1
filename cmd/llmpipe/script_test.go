package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files of the CLI scripts (cmp targets in the txtar archives)")

// TestMain lets scripts run `llmpipe …` as a real process: testscript
// re-executes this test binary with the command's name.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"llmpipe": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs cmd/llmpipe/testdata/script/*.txtar. Each script starts
// in a fresh directory holding the archive's files; `llmpipe run --sim`
// starts the simulator in-process on loopback, so nothing leaves the machine.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Cmds:          withScriptCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){"exitcode": cmdExitCode}),
		Setup: func(env *testscript.Env) error {
			// A developer's key must never reach a test.
			env.Setenv("GEMINI_API_KEY", "")
			env.Setenv("GOOGLE_API_KEY", "")
			env.Setenv("GOOGLE_GEMINI_BASE_URL", "")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

// cmdExitCode is `exitcode N command args...`: it runs the command like exec
// (stdout and stderr are kept for the next stdout/stderr assertions) and
// fails unless the command exits with status N. testscript's own `! exec`
// only tells zero from non-zero, and llmpipe's exit codes mean different
// things (3 failed items, 4 budget).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode (name the code you expect)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
