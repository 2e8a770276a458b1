package main

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

func cmdCancel(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "cancel", "FILE [--store PATH] [--base-url URL]", `
Cancel the pipeline's batch jobs that are still running on the service
(Gemini Batch Mode, see run --batch). Their items stay pending: the next
run of the same command puts them into new jobs (or runs them online).
Finished results are kept. Uses GEMINI_API_KEY or GOOGLE_API_KEY.

Example:
  llmpipe cancel job.llmp`)
	storePath := fs.String("store", "", "the run store `path` (default: as run uses)")
	baseURL := fs.String("base-url", "", "Gemini API base `URL` (default: GOOGLE_GEMINI_BASE_URL, else Google's)")
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		env.errorf("cancel: name one .llmp file")
		return exitUsage
	}
	p, err := llmpipe.Load(pos[0])
	if err != nil {
		printLoadError(env, err)
		return exitError
	}
	path := *storePath
	if path == "" {
		path = p.DefaultStorePath()
	}
	// Writable: the jobs are ended in the store. A run holding the store
	// makes this fail with a message naming it (stop that run first).
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	defer s.Close()
	jobs, err := s.LiveBatchJobs(ctx)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	if len(jobs) == 0 {
		fmt.Fprintln(env.stdout, "no live batch jobs")
		return exitOK
	}
	prov, err := gemini.New(ctx, gemini.Options{BaseURL: *baseURL})
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	failed := 0
	for _, j := range jobs {
		name := j.Name
		if name == "" {
			// A crash between create and commit: find it by display name.
			l, err := prov.ListBatches(ctx)
			if err != nil {
				env.errorf("listing batch jobs: %v", err)
				failed++
				continue
			}
			for _, b := range l {
				if b.DisplayName == j.DisplayName {
					name = b.Name
				}
			}
			if name == "" {
				_ = s.SetBatchJobState(ctx, j.ID, runtime.BatchAbandoned, 0, 0)
				continue
			}
		}
		if err := prov.CancelBatch(ctx, name); err != nil {
			env.errorf("cancelling %s: %v", name, err)
			failed++
			continue
		}
		if err := s.SetBatchJobState(ctx, j.ID, runtime.BatchCancelled, 0, 0); err != nil {
			env.errorf("%v", err)
			return exitError
		}
		fmt.Fprintf(env.stdout, "cancelled %s (%s, %s): %s pending\n", name, j.Step, j.Model, plural(len(j.Items), "item", "items"))
	}
	if failed > 0 {
		return exitError
	}
	return exitOK
}
