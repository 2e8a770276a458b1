package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/lang"
)

// maxDiagnostics caps what one file prints; more are summarised.
const maxDiagnostics = 10

func cmdCheck(_ context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "check", "FILE...", `
Parse and check each pipeline: names resolve, expressions and templates
type-check against the schemas, the steps form no cycle. Every problem is
printed like a compiler error (file:line:col, the line, carets, a help line).
Exits 1 if any file has errors, 0 otherwise (warnings do not fail).

Example:
  llmpipe check pipelines/*.llmp`)
	files, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		env.errorf("check: name at least one .llmp file")
		return exitUsage
	}
	failed := false
	for _, path := range files {
		p, err := llmpipe.Load(path)
		if err != nil {
			printLoadError(env, err)
			failed = true
			continue
		}
		printDiagnostics(env, p.Diagnostics, map[string][]byte{path: p.Src})
	}
	if failed {
		return exitError
	}
	return exitOK
}

// printLoadError prints a Load error: diagnostics with their source lines,
// anything else on one line.
func printLoadError(env *cmdEnv, err error) {
	var de *llmpipe.DiagnosticsError
	if errors.As(err, &de) {
		printDiagnostics(env, de.Diagnostics, de.Sources)
		return
	}
	env.errorf("%v", err)
}

func printDiagnostics(env *cmdEnv, d lang.Diagnostics, src map[string][]byte) {
	if len(d) == 0 {
		return
	}
	d.Fprint(env.stderr, src, lang.PrintOptions{Color: colorOK(env.stderr), Max: maxDiagnostics})
}

// colorOK: colour only on a terminal, and never when NO_COLOR is set.
func colorOK(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func cmdFmt(_ context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "fmt", "[-w | -d] FILE...", `
Print each pipeline in canonical form: two-space indent, aligned '=' in runs
of attributes, aligned schema columns, comments kept. Formatting is
idempotent and never changes what a file means.

Examples:
  llmpipe fmt job.llmp          # print the formatted file
  llmpipe fmt -w pipelines/*.llmp  # rewrite files in place
  llmpipe fmt -d job.llmp       # list files whose formatting differs (exit 1)`)
	write := fs.Bool("w", false, "rewrite files in place instead of printing them")
	diff := fs.Bool("d", false, "print the names of files that are not formatted, and exit 1 if any")
	files, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		env.errorf("fmt: name at least one .llmp file")
		return exitUsage
	}
	status := exitOK
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			env.errorf("%v", err)
			status = exitError
			continue
		}
		f, diags := lang.Parse(path, src)
		if diags.HasErrors() {
			printDiagnostics(env, diags, map[string][]byte{path: src})
			status = exitError
			continue
		}
		out := lang.Format(f)
		switch {
		case *diff:
			if !bytes.Equal(out, src) {
				fmt.Fprintln(env.stdout, path)
				status = exitError
			}
		case *write:
			if bytes.Equal(out, src) {
				continue
			}
			if err := writeFileAtomic(path, out); err != nil {
				env.errorf("%v", err)
				status = exitError
			}
		default:
			env.stdout.Write(out)
		}
	}
	return status
}

// writeFileAtomic replaces path with data via a temp file and rename, so an
// interrupted write never leaves half a pipeline.
func writeFileAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".llmpipe-tmp"
	if err := os.WriteFile(tmp, data, info.Mode().Perm()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
