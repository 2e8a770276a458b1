package main

import (
	"context"
	"flag"
	"os"
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
