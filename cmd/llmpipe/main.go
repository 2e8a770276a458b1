// Command llmpipe runs large batches of LLM calls described by .llmp files:
// cheap models first, every reply parsed and checked, failures fed back or
// escalated, every result stored the moment it exists, cost counted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	_ "time/tzdata" // quota days reset at midnight Pacific, even without a tz database

	"github.com/llmpipe/llmpipe"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes, documented in `llmpipe help`.
const (
	exitOK          = 0
	exitError       = 1 // the pipeline could not run: diagnostics, auth, missing files
	exitUsage       = 2
	exitFailedItems = 3
	exitBudget      = 4
	exitInterrupted = 130
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cmdEnv, args []string) int
}

// cmdEnv is what a command may touch; tests give it buffers.
type cmdEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e *cmdEnv) errorf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "llmpipe: "+format+"\n", a...)
}

func commands() []command {
	return []command{
		{"run", "run a pipeline over all its items", cmdRun},
		{"dev", "re-run a sample of items each time the pipeline is saved", cmdDev},
		{"check", "parse and check pipelines, printing every problem", cmdCheck},
		{"test", "run the test blocks of pipelines, with replies given in the file", cmdTest},
		{"fmt", "print pipelines in canonical form (or rewrite them with -w)", cmdFmt},
		{"plan", "show what a run would do: models, caches, quotas, cost break-even", cmdPlan},
		{"status", "show what the run store holds for a pipeline", cmdStatus},
		{"show", "show one item's history: every attempt, prompt, reply and cost", cmdShow},
		{"serve", "serve a web view of the run store: runs, items, attempts", cmdServe},
		{"cancel", "cancel a pipeline's live batch jobs, leaving their items pending", cmdCancel},
		{"sim", "run the Gemini simulator on a loopback port", cmdSim},
		{"bench", "run the benchmark scenarios against the simulator", cmdBench},
		{"lsp", "serve the Language Server Protocol to an editor", cmdLSP},
		{"doc", "print the language reference (blocks, attributes, functions, names)", cmdDoc},
		{"version", "print the version", cmdVersion},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	if name == "--version" || name == "-version" {
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
	}
	env.errorf("unknown command %q (see 'llmpipe help')", name)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `llmpipe runs large batches of LLM calls described by .llmp files: cheap
models first, every reply parsed and checked, failures fed back or escalated,
every result stored the moment it exists, cost counted to the cent.

Usage:
  llmpipe <command> [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Start here:
  llmpipe run pipelines/extract_people.llmp --sim     # offline, against the built-in simulator
  llmpipe dev pipelines/extract_people.llmp --sim     # edit the file; a sample re-runs on save

Exit codes: 0 all items succeeded · 1 the pipeline could not run · 2 bad usage ·
3 finished with failed items · 4 stopped by the budget · 130 interrupted.

'llmpipe help <command>' (or '<command> --help') shows a command's flags and examples.
`)
}

// newFlags makes a FlagSet whose --help prints the command's own text.
func newFlags(env *cmdEnv, name, synopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package prints its errors and the usage to Output on its
	// own; parseArgs says each once instead (help on stdout, an error as
	// one line and a hint), so Output is only where Usage writes.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: llmpipe %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(help))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before or after positional
// arguments (`llmpipe run job.llmp --sim`), as users type them. It returns
// the positional arguments, or a usage exit code.
func parseArgs(env *cmdEnv, fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(env.stdout)
				fs.Usage()
				return nil, exitOK, false
			}
			env.errorf("%s: %v", fs.Name(), err)
			fmt.Fprintf(env.stderr, "run 'llmpipe %s --help' for the flags\n", fs.Name())
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdVersion(_ context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "version", "", "Print llmpipe's version.")
	if _, code, ok := parseArgs(env, fs, args); !ok {
		return code
	}
	fmt.Fprintf(env.stdout, "llmpipe %s\n", version)
	return exitOK
}

// pipelineArg parses flags, takes exactly one .llmp argument and loads it,
// printing its diagnostics (warnings too). ok=false means: return code.
func pipelineArg(env *cmdEnv, fs *flag.FlagSet, args []string) (p *llmpipe.Pipeline, code int, ok bool) {
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return nil, code, false
	}
	if len(pos) != 1 {
		env.errorf("%s: name one .llmp file (see 'llmpipe %s --help')", fs.Name(), fs.Name())
		return nil, exitUsage, false
	}
	p, err := llmpipe.Load(pos[0])
	if err != nil {
		printLoadError(env, err)
		return nil, exitError, false
	}
	printDiagnostics(env, p.Diagnostics, map[string][]byte{p.Path: p.Src})
	return p, exitOK, true
}
