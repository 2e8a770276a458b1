package main

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime/pipetest"
)

func cmdTest(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "test", "[--run REGEX] [-v] FILE...", `
Run the test blocks of each pipeline. A test sends one item through one
step with the model's replies written in the test, in process: the real
templates, parsing, checks, feedback and ladder, no network, no store, no
cost. Then every expect line must hold.

A failing test prints its name, its file:line, the expectation that did not
hold and the values it saw, like go test. The last line is "N passed,
N failed". Exits 0 when every test passes (a file without tests passes),
1 when a test fails or a file does not check.

Examples:
  llmpipe test pipelines/*.llmp
  llmpipe test --run 'climbs' job.llmp`)
	runRx := fs.String("run", "", "run only the tests whose name matches this regular expression")
	verbose := fs.Bool("v", false, "also list the tests that pass")
	files, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		env.errorf("test: name at least one .llmp file")
		return exitUsage
	}
	var opts llmpipe.TestOptions
	if *runRx != "" {
		rx, err := regexp.Compile(*runRx)
		if err != nil {
			env.errorf("test: --run: %v", err)
			return exitUsage
		}
		opts.Run = rx
	}
	passed, failed, broken := 0, 0, false
	for _, path := range files {
		p, err := llmpipe.Load(path)
		if err != nil {
			printLoadError(env, err)
			fmt.Fprintf(env.stdout, "FAIL %s (does not check)\n", path)
			broken = true
			continue
		}
		printDiagnostics(env, p.Diagnostics, map[string][]byte{path: p.Src})
		fileFailed := false
		for _, r := range p.Test(ctx, opts) {
			if r.Passed() {
				passed++
				if *verbose {
					fmt.Fprintf(env.stdout, "--- PASS: %s (%s:%d)\n", r.Test.Name, path, r.Test.Range.Start.Line)
				}
				continue
			}
			failed++
			fileFailed = true
			printTestFailure(env.stdout, path, r)
		}
		if ctx.Err() != nil {
			env.errorf("test: interrupted")
			return exitInterrupted
		}
		if fileFailed {
			fmt.Fprintf(env.stdout, "FAIL %s\n", path)
		} else if *verbose {
			fmt.Fprintf(env.stdout, "ok   %s\n", path)
		}
	}
	fmt.Fprintf(env.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || broken {
		return exitError
	}
	return exitOK
}

// printTestFailure prints one failed test, go test style.
func printTestFailure(w io.Writer, path string, r *pipetest.Result) {
	fmt.Fprintf(w, "--- FAIL: %s (%s:%d)\n", r.Test.Name, path, r.Test.Range.Start.Line)
	if r.Error != "" {
		fmt.Fprintf(w, "    %s\n", r.Error)
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "    %s:%d: expect %s\n", path, f.Expect.Range.Start.Line, f.Expect.Source)
		if f.Err != "" {
			fmt.Fprintf(w, "        %s\n", f.Err)
		}
		for _, v := range f.Values {
			fmt.Fprintf(w, "        %s\n", v)
		}
	}
}
