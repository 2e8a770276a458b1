package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// devOutputWidth bounds the one-line view of an output, in runes.
const devOutputWidth = 100

// devItem is what dev shows of one item at one step. Records flow on to
// later steps and are changed there, so the sink keeps a copy of what it
// needs, taken when the record is written.
type devItem struct {
	Step     string
	ID       string
	OK       bool
	Model    string
	Rung     int
	Attempts int
	Cached   bool
	Output   string // compact JSON of the step's output, when OK
	Problem  string // why it failed, when not OK
}

type devKey struct{ step, id string }

// devCollector is the sink of every step in dev mode: it keeps the last
// record per item and step in memory and writes no files.
type devCollector struct {
	mu    sync.Mutex
	items map[devKey]devItem
}

func newDevCollector() *devCollector { return &devCollector{items: map[devKey]devItem{}} }

// open is a runtime.OpenSink.
func (c *devCollector) open(context.Context, *interp.Sink) (runtime.Sink, error) {
	return devSink{c}, nil
}

type devSink struct{ c *devCollector }

func (s devSink) Write(_ context.Context, rec *runtime.Record) error {
	id := rec.ID
	if rec.Malformed { // no id: name it by its place, so two do not collide
		id = fmt.Sprintf("(line %d)", rec.SourceLine)
	}
	it := devItem{
		Step: rec.Step, ID: id, OK: !rec.Failed, Model: rec.Model, Rung: rec.Rung,
		Attempts: rec.Attempts, Cached: rec.Cached,
	}
	if rec.Failed {
		it.Problem = failureText(rec.Failure)
	} else {
		b, err := json.Marshal(rec.Outputs[rec.Step])
		if err != nil {
			return fmt.Errorf("showing output of %q: %w", rec.ID, err)
		}
		it.Output = string(b)
	}
	s.c.mu.Lock()
	s.c.items[devKey{rec.Step, id}] = it
	s.c.mu.Unlock()
	return nil
}

func (devSink) Close() error { return nil }

// snapshot returns what was collected, keyed by step and item.
func (c *devCollector) snapshot() map[devKey]devItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[devKey]devItem, len(c.items))
	for k, v := range c.items {
		out[k] = v
	}
	return out
}

// devProgram is prog with one collecting sink per step for successes and
// one for failures, in place of the pipeline's own sinks: dev shows every
// step and writes none of the pipeline's files. Sinks do not enter any
// fingerprint, so results stay shared with `run`.
func devProgram(prog *interp.Program) *interp.Program {
	cp := *prog
	cp.Sinks = nil
	for _, s := range prog.Steps {
		cp.Sinks = append(cp.Sinks,
			&interp.Sink{Name: s.Name + ".dev", Kind: "dev", From: s},
			&interp.Sink{Name: s.Name + ".dev.failed", Kind: "dev", From: s, Failed: true})
	}
	return &cp
}

// failureText names the checks or fields that failed on the last attempt,
// else the failure's message.
func failureText(f *runtime.Failure) string {
	if f == nil {
		return "failed"
	}
	if n := len(f.Errors); n > 0 && len(f.Errors[n-1].Fields) > 0 {
		var parts []string
		for _, fe := range f.Errors[n-1].Fields {
			parts = append(parts, fe.Field+": "+fe.Message)
		}
		return f.Class.String() + " " + strings.Join(parts, "; ")
	}
	return f.Class.String() + " " + devOneLine(f.Message)
}

// devRound is one finished round, ready to print.
type devRound struct {
	N     int
	Steps []string // pipeline order; the step column shows only when > 1
	Items map[devKey]devItem
	Sum   *runtime.Summary
}

// printDevRound writes the per-item lines, what changed since prev (nil
// for the first round) and the round's counts and cost. Nothing in it
// depends on timing, so two rounds over the same results print the same.
func printDevRound(w io.Writer, r *devRound, prev *devRound) {
	keys := sortedDevKeys(r.Items, r.Steps)
	idw, stepw := 0, 0
	for _, k := range keys {
		idw = max(idw, len(k.id))
		stepw = max(stepw, len(k.step))
	}
	fmt.Fprintf(w, "round %d · %d items\n", r.N, len(keys))
	for _, k := range keys {
		it := r.Items[k]
		step := ""
		if len(r.Steps) > 1 {
			step = fmt.Sprintf("%-*s  ", stepw, k.step)
		}
		fmt.Fprintf(w, "  %-*s  %s%s\n", idw, k.id, step, itemLine(it))
	}
	if prev != nil {
		printDevDiff(w, r, prev)
	}
	s := r.Sum.Stats
	fmt.Fprintf(w, "round %d: ok %d · failed %d · calls %d · cache hits %d · unchanged %d · cost $%.4f\n",
		r.N, s.Succeeded, s.Failed, s.Attempts-s.CacheHits, s.CacheHits, s.Resumed, r.Sum.Cost)
}

func itemLine(it devItem) string {
	where := shortModel(it.Model) + " (rung " + strconv.Itoa(it.Rung) + ")"
	var notes []string
	if it.Attempts > 1 {
		notes = append(notes, fmt.Sprintf("%d attempts", it.Attempts))
	}
	if it.Cached {
		notes = append(notes, "cached")
	}
	if len(notes) > 0 {
		where += " [" + strings.Join(notes, ", ") + "]"
	}
	if it.OK {
		return "ok      " + where + "  " + devClip(it.Output, devOutputWidth)
	}
	return "FAILED  " + where + "  " + devClip(it.Problem, devOutputWidth)
}

// printDevDiff says which items changed outcome or output since prev.
// Items in only one of the rounds (a different sample) are not compared.
func printDevDiff(w io.Writer, r, prev *devRound) {
	var passing, failing []string
	changed := 0
	for _, k := range sortedDevKeys(r.Items, r.Steps) {
		now := r.Items[k]
		was, ok := prev.Items[k]
		if !ok {
			continue
		}
		label := k.id
		if len(r.Steps) > 1 {
			label = k.step + "/" + k.id
		}
		switch {
		case now.OK && !was.OK:
			passing = append(passing, label)
		case !now.OK && was.OK:
			failing = append(failing, label)
		case now.OK && now.Output != was.Output:
			changed++
		}
	}
	if len(passing)+len(failing)+changed == 0 {
		fmt.Fprintln(w, "  no change since round", prev.N)
		return
	}
	if len(passing) > 0 {
		fmt.Fprintf(w, "  now passing: %s\n", strings.Join(passing, ", "))
	}
	if len(failing) > 0 {
		fmt.Fprintf(w, "  now failing: %s\n", strings.Join(failing, ", "))
	}
	if changed > 0 {
		fmt.Fprintf(w, "  changed output: %d\n", changed)
	}
}

// sortedDevKeys orders items by id (numbers in ids compare as numbers, so
// p2 comes before p10), then by the steps' pipeline order.
func sortedDevKeys(items map[devKey]devItem, steps []string) []devKey {
	order := map[string]int{}
	for i, s := range steps {
		order[s] = i
	}
	keys := make([]devKey, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].id != keys[j].id {
			return devNaturalLess(keys[i].id, keys[j].id)
		}
		return order[keys[i].step] < order[keys[j].step]
	})
	return keys
}

// devNaturalLess compares strings with runs of digits taken as numbers.
func devNaturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := devDigitPrefix(a), devDigitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func devDigitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// devClip shortens s to n runes, marking the cut.
func devClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// devOneLine folds whitespace runs (newlines included) into single spaces.
func devOneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}
