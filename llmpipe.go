// Package llmpipe is the Go API of llmpipe: load a .llmp pipeline, then run
// it against Gemini or the built-in simulator, with the same wiring the
// command line uses.
//
//	p, err := llmpipe.Load("job.llmp")
//	if err != nil { … }                // *llmpipe.DiagnosticsError for problems in the file
//	sum, err := p.Run(ctx, llmpipe.RunOptions{Sim: true})
//
// For more control (live stats, SetWorkers, Drain, hot reload) use Start,
// which returns the running *Run.
package llmpipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
	"github.com/llmpipe/llmpipe/stdlib/funcs"
)

// Pipeline is a parsed and checked .llmp file.
type Pipeline struct {
	Path    string
	Src     []byte
	File    *lang.File
	Program *interp.Program
	// Diagnostics holds warnings (errors make Load fail).
	Diagnostics lang.Diagnostics
	// Parsed says the file had no syntax error, so File is whole and the
	// checker ran (an editor falls back to an earlier tree otherwise).
	Parsed bool
}

// DiagnosticsError is returned by Load when the file has errors.
type DiagnosticsError struct {
	Diagnostics lang.Diagnostics
	Sources     map[string][]byte // for printing the diagnostics with source lines
}

func (e *DiagnosticsError) Error() string { return e.Diagnostics.Error() }

// Load reads, parses and checks a pipeline file.
func Load(path string) (*Pipeline, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading pipeline: %w", err)
	}
	return LoadSource(path, src)
}

// LoadSource parses and checks pipeline text as if read from path (relative
// paths in it resolve against path's directory).
func LoadSource(path string, src []byte) (*Pipeline, error) {
	f, diags := lang.Parse(path, src)
	p := &Pipeline{Path: path, Src: src, File: f, Parsed: !diags.HasErrors() && f != nil}
	if p.Parsed {
		prog, cd := interp.Check(f, &interp.Options{Funcs: funcs.All()})
		diags = append(diags, cd...)
		p.Program = prog
	}
	diags.Sort()
	p.Diagnostics = diags
	if diags.HasErrors() {
		return p, &DiagnosticsError{Diagnostics: diags, Sources: map[string][]byte{path: src}}
	}
	return p, nil
}

// Runnable reports why the pipeline cannot run (errors in the file, no
// steps), or nil. Callers check it before creating anything a run makes:
// the store, the event log, the outputs.
func (p *Pipeline) Runnable() error {
	if p.Program == nil {
		return errors.New("pipeline has errors; nothing to run")
	}
	if len(p.Program.Steps) == 0 {
		return fmt.Errorf("%s has no steps; nothing to run", p.Path)
	}
	return nil
}

// Name is the pipeline's name: its file name without the extension.
func (p *Pipeline) Name() string {
	base := filepath.Base(p.Path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// DefaultStorePath is where the run store lives unless config or a flag says
// otherwise: .llmpipe/<name>.db next to the pipeline file.
func (p *Pipeline) DefaultStorePath() string {
	if p.Program != nil && p.Program.Config.Store != "" {
		return p.Program.Config.Store
	}
	return filepath.Join(filepath.Dir(p.Path), ".llmpipe", p.Name()+".db")
}
