package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

func cmdStatus(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "status", "FILE [--store PATH]", `
Show what the run store holds for a pipeline: per step, items done and failed
under the step as it is now (a changed prompt, schema or check makes earlier
results stale), items still pending, calls made and money spent; and the last
run. It reads the store without locking it, so it works during a run.

Example:
  llmpipe status pipelines/extract_people.llmp`)
	storePath := fs.String("store", "", "the run store `path` (default: as run uses)")
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		env.errorf("status: name one .llmp file")
		return exitUsage
	}
	p, s, code := openStoreFor(ctx, env, pos[0], *storePath)
	if s == nil {
		return code
	}
	defer s.Close()
	st, err := s.Status(ctx)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	// The items as a run would see them (sources read, wheres applied,
	// results looked up), so that the counts agree with a run's summary:
	// rows a source's where drops are not pending, items a step's where
	// skips are skipped, rows that do not parse are failed.
	census, cerr := runtime.Census(ctx, p.Program, stdlib.OpenSource, s.Lookup)
	fmt.Fprintf(env.stdout, "store %s\n\n", st.Path)
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tDONE\tFAILED\tPENDING\tSTALE\tCALLS\tTOKENS\tSPENT")
	var spent float64
	var skipped, malformed []string
	for _, step := range p.Program.Steps {
		ss := stepStatus(st, step.Name)
		cur := ss.Fingerprint(step.Fingerprint())
		stale := 0
		for _, f := range ss.Fingerprints {
			if f.Fingerprint != cur.Fingerprint {
				stale += f.Done + f.Failed
			}
		}
		done, failed, pending := count(int64(cur.Done)), count(int64(cur.Failed)), "?"
		if c := census[step.Name]; cerr == nil && c != nil {
			done, failed, pending = count(int64(c.Done)), count(int64(c.Failed)), count(int64(c.Pending))
			if c.Skipped > 0 {
				skipped = append(skipped, fmt.Sprintf("%s %s", step.Name, count(int64(c.Skipped))))
			}
			if c.Malformed > 0 {
				malformed = append(malformed, fmt.Sprintf("%s %s", step.Name, count(int64(c.Malformed))))
			}
		}
		tokens := ss.Usage.PromptTokens + ss.Usage.OutputTokens + ss.Usage.ThinkingTokens
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t$%.4f\n", step.Name, done, failed,
			pending, count(int64(stale)), count(int64(ss.Calls)), count(int64(tokens)), ss.Spent)
		spent += ss.Spent
	}
	tw.Flush()
	printJobs(ctx, env, s)
	printProviders(env.stdout, p.Program)
	if len(skipped) > 0 {
		fmt.Fprintf(env.stdout, "\nskipped by where: %s\n", strings.Join(skipped, " · "))
	}
	if len(malformed) > 0 {
		fmt.Fprintf(env.stdout, "\nmalformed source rows (failed, not stored): %s\n", strings.Join(malformed, " · "))
	}
	if cerr != nil {
		fmt.Fprintf(env.stdout, "\npending unknown: %v\n", cerr)
	}
	spent += st.CacheSpent
	fmt.Fprintf(env.stdout, "\nspent $%.4f over %d runs", spent, st.Runs)
	if st.CacheSpent > 0 {
		fmt.Fprintf(env.stdout, " (context caches $%.4f)", st.CacheSpent)
	}
	fmt.Fprintf(env.stdout, " · %s cached replies", count(int64(st.Responses)))
	if st.Caches > 0 {
		fmt.Fprintf(env.stdout, " · %d context caches not yet deleted", st.Caches)
	}
	fmt.Fprintln(env.stdout)
	if lr := st.LastRun; lr != nil {
		end := "did not finish (crashed or still running)"
		if !lr.Ended.IsZero() {
			end = "ended " + lr.Ended.Format(time.DateTime) + " after " + shortDuration(lr.Ended.Sub(lr.Started))
		}
		fmt.Fprintf(env.stdout, "last run #%d started %s, %s\n", lr.ID, lr.Started.Format(time.DateTime), end)
	}
	return exitOK
}

// printJobs lists the store's batch jobs, newest first (the last 20).
func printJobs(ctx context.Context, env *cmdEnv, s *store.Store) {
	jobs, err := s.BatchJobs(ctx)
	if err != nil || len(jobs) == 0 {
		return
	}
	fmt.Fprintf(env.stdout, "\nbatch jobs:\n")
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTEP\tMODEL\tSTATE\tITEMS\tDONE\tFAILED\tAGE")
	for i, j := range jobs {
		if i == 20 {
			fmt.Fprintf(tw, "… %d older\n", len(jobs)-20)
			break
		}
		name, state := j.Name, string(j.State)
		if name == "" {
			name = j.DisplayName + " (not yet named)"
		}
		if j.Name == "" && j.Ended.IsZero() {
			state = "creating"
		}
		if j.Ended.IsZero() && j.Name != "" {
			state += " (live)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", name, j.Step, j.Model, state, j.ItemCount, j.Done, j.Failed, shortDuration(time.Since(j.Created)))
	}
	tw.Flush()
}

// printProviders lists each model's provider when a pipeline uses any
// besides the Gemini API (a plain Gemini pipeline's would be noise).
func printProviders(w io.Writer, prog *interp.Program) {
	var parts []string
	other := false
	for _, m := range prog.Models {
		p := m.Provider
		if p == "" {
			p = interp.ProviderGemini
		}
		other = other || p != interp.ProviderGemini
		parts = append(parts, m.ID+" ("+p+")")
	}
	if other {
		fmt.Fprintf(w, "\nmodels: %s\n", strings.Join(parts, " · "))
	}
}

func stepStatus(st *store.Status, step string) store.StepStatus {
	for _, s := range st.Steps {
		if s.Step == step {
			return s
		}
	}
	return store.StepStatus{Step: step}
}

func cmdShow(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "show", "FILE ID [--store PATH]", `
Show one item's history from the run store: every attempt at every step, with
the model, the prompt sent, the reply, the error and the cost; then the
terminal result of each step.

Example:
  llmpipe show pipelines/extract_people.llmp p7`)
	storePath := fs.String("store", "", "the run store `path` (default: as run uses)")
	full := fs.Bool("full", false, "print whole prompts and replies (default: the first 20 lines of each)")
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		env.errorf("show: name a .llmp file and an item id")
		return exitUsage
	}
	p, s, code := openStoreFor(ctx, env, pos[0], *storePath)
	if s == nil {
		return code
	}
	defer s.Close()
	h, err := s.History(ctx, pos[1])
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	if len(h.Attempts) == 0 && len(h.Results) == 0 {
		env.errorf("no item %q in %s", pos[1], s.Path())
		return exitError
	}
	// Prompts, replies, outputs and messages hold item data: escape what
	// a terminal would act on.
	w := termWriter{env.stdout}
	for _, a := range h.Attempts {
		src := "call"
		if a.Cached {
			src = "response cache"
		}
		if a.Job != "" {
			src = "batch job " + a.Job
		}
		fmt.Fprintf(w, "── %s · run #%d · attempt %d · %s (rung %d) · %s · %s · $%.6f · %s\n", a.Step, a.RunID, a.Attempt, a.Model, a.Rung, src, a.Status, a.Cost.Dollars(), shortDuration(a.Latency))
		fmt.Fprintf(w, "   tokens: prompt %d (cached %d) · output %d · thinking %d\n", a.Usage.PromptTokens, a.Usage.CachedTokens, a.Usage.OutputTokens, a.Usage.ThinkingTokens)
		fmt.Fprintf(w, "   prompt:\n%s\n", indent(clip(a.Prompt, *full), "     "))
		if a.Reply != "" {
			fmt.Fprintf(w, "   reply:\n%s\n", indent(clip(a.Reply, *full), "     "))
		}
		if a.Error != "" {
			fmt.Fprintf(w, "   error: %s\n", a.Error)
		}
	}
	current := map[string]string{} // step name → its fingerprint now
	for _, step := range p.Program.Steps {
		current[step.Name] = step.Fingerprint()
	}
	for _, r := range h.Results {
		printResult(w, r, r.Fingerprint == current[r.Step])
	}
	return exitOK
}

// printResult prints a terminal result. A result stored under another
// fingerprint than the step has now is stale: the next run will not use it,
// which is what a user puzzled by a re-call needs to see.
func printResult(w io.Writer, r runtime.Result, current bool) {
	tag := ""
	if !current {
		tag = " (stale: the step has changed since; the next run redoes it)"
	}
	attempts := plural(r.Attempts, "attempt", "attempts")
	if r.OK {
		fmt.Fprintf(w, "== %s: ok by %s after %s · $%.6f%s\n   output: %s\n", r.Step, r.Model, attempts, r.Cost.Dollars(), tag, r.Output)
		return
	}
	msg := ""
	if r.Failure != nil {
		msg = r.Failure.Class.String() + ": " + r.Failure.Message
	}
	fmt.Fprintf(w, "== %s: FAILED after %s · $%.6f%s\n   %s\n", r.Step, attempts, r.Cost.Dollars(), tag, msg)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// openStoreFor loads the pipeline and opens its store read-only.
func openStoreFor(ctx context.Context, env *cmdEnv, path, storePath string) (*llmpipe.Pipeline, *store.Store, int) {
	p, err := llmpipe.Load(path)
	if err != nil {
		printLoadError(env, err)
		return nil, nil, exitError
	}
	if storePath == "" {
		storePath = p.DefaultStorePath()
	}
	if _, err := os.Stat(storePath); err != nil {
		env.errorf("no run store at %s yet: run the pipeline first", storePath)
		return nil, nil, exitError
	}
	s, err := store.Open(ctx, storePath, store.Options{ReadOnly: true})
	if err != nil {
		env.errorf("%v", err)
		return nil, nil, exitError
	}
	return p, s, exitOK
}

func clip(s string, full bool) string {
	if full {
		return s
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 20 {
		return strings.Join(lines[:20], "\n") + fmt.Sprintf("\n… (%d more lines; --full shows all)", len(lines)-20)
	}
	return s
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}
