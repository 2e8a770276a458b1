package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/cmd/llmpipe/internal/watch"
	"github.com/llmpipe/llmpipe/runtime"
)

// watchAndReload applies each save of p's file to the running run r until
// ctx is done. It reports on stderr, one message per save.
func watchAndReload(ctx context.Context, env *cmdEnv, r *llmpipe.Run, p *llmpipe.Pipeline) {
	w, err := watch.New(0)
	if err != nil {
		env.errorf("--watch: %v", err)
		return
	}
	defer w.Close()
	if err := w.Set(runWatchList(p)); err != nil {
		env.errorf("--watch: %v", err)
	}
	// A save made since the run loaded the file counts too.
	w.Baseline(p.Path, p.Src)
	err = w.Run(ctx, func() {
		if np := reloadRun(env, r, w, p.Path); np != nil {
			if err := w.Set(runWatchList(np)); err != nil {
				env.errorf("--watch: %v", err)
			}
		}
	})
	if err != nil {
		env.errorf("--watch: %v; edits are no longer applied", err)
	}
}

// reloadRun checks the file at path and applies it to r. It returns the
// pipeline when it was applied, nil when the run goes on as it was.
func reloadRun(env *cmdEnv, r *llmpipe.Run, w *watch.Watcher, path string) *llmpipe.Pipeline {
	np, err := llmpipe.Load(path)
	if np != nil {
		w.Baseline(path, np.Src) // what was judged, even if saved again since the event
	}
	if err != nil {
		printLoadError(env, err)
		fmt.Fprintf(env.stderr, "llmpipe: edit not applied; the run goes on under plan %d\n", r.Plan())
		return nil
	}
	printDiagnostics(env, np.Diagnostics, map[string][]byte{np.Path: np.Src})
	v, err := r.Reload(np)
	var re *runtime.ReloadError
	switch {
	case errors.As(err, &re):
		for _, problem := range re.Problems {
			fmt.Fprintf(env.stderr, "%s: error: %s\n", path, problem)
		}
		fmt.Fprintf(env.stderr, "llmpipe: edit not applied; the run goes on under plan %d\n", v)
		return nil
	case err != nil:
		env.errorf("edit not applied: %v", err)
		return nil
	}
	fmt.Fprintf(env.stderr, "llmpipe: reloaded: plan %d applies to items that start from now on\n", v)
	return np
}

// runWatchList is the pipeline file and the files its prompts read, but
// not its sources: a running run is reading those, and a source that grows
// while it runs is no edit of the pipeline.
func runWatchList(p *llmpipe.Pipeline) []string {
	paths := []string{p.Path}
	if p.Program == nil {
		return paths
	}
	var sources []string
	for _, s := range p.Program.Sources {
		sources = append(sources, s.Path)
	}
	for _, f := range p.Program.Reads {
		if !slices.Contains(sources, f) {
			paths = append(paths, f)
		}
	}
	return paths
}
