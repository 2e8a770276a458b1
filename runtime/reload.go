package runtime

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/llmpipe/llmpipe/interp"
)

// ReloadError says why an edit cannot apply to a running run. The run goes
// on under the plan it has.
type ReloadError struct {
	Problems []string
}

func (e *ReloadError) Error() string {
	return "edit not applied: " + strings.Join(e.Problems, "; ")
}

// Reload makes prog the plan for every item that starts from now on; items
// in flight finish under the plan they started with, and records carry the
// plan version that produced them. Worker count, budget and the pacer's
// quotas (Options.Quotas) apply at once.
//
// The shape of the run is fixed while it runs: an edit that removes,
// renames or adds a step, changes where a step reads from, or changes the
// sources or sinks is refused with a *ReloadError until the run ends.
func (r *Runner) Reload(prog *interp.Program) (version int, err error) {
	old := r.plan.Load()
	if problems := shapeChanges(old.prog, prog); len(problems) > 0 {
		r.emit(Event{Kind: EventReloadRejected, Message: strings.Join(problems, "; ")})
		return old.version, &ReloadError{Problems: problems}
	}
	next := newPlan(prog, old.version+1)
	r.plan.Store(next)
	r.setLimits(prog)
	if r.opts.Workers <= 0 && prog.Config.Workers > 0 && prog.Config.Workers != old.prog.Config.Workers {
		r.resize(prog.Config.Workers)
	}
	if r.opts.Budget <= 0 && prog.Config.Budget != old.prog.Config.Budget {
		r.bud.setLimit(Dollars(prog.Config.Budget))
	}
	r.emit(Event{Kind: EventReloadApplied, Plan: next.version})
	return next.version, nil
}

// Plan returns the plan version in force.
func (r *Runner) Plan() int { return r.plan.Load().version }

// shapeChanges lists what an edit changes that a running run cannot take.
func shapeChanges(old, next *interp.Program) []string {
	var out []string
	oldSteps := map[string]*interp.Step{}
	for _, s := range old.Steps {
		oldSteps[s.Name] = s
	}
	newSteps := map[string]*interp.Step{}
	for _, s := range next.Steps {
		newSteps[s.Name] = s
	}
	for _, name := range slices.Sorted(maps.Keys(oldSteps)) {
		n := newSteps[name]
		if n == nil {
			out = append(out, fmt.Sprintf("step %q is in use by this run and cannot be removed or renamed until the run ends", name))
			continue
		}
		if from(oldSteps[name]) != from(n) {
			out = append(out, fmt.Sprintf("step %q now reads from %q instead of %q: that takes effect on the next run", name, from(n), from(oldSteps[name])))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(newSteps)) {
		if oldSteps[name] == nil {
			out = append(out, fmt.Sprintf("new step %q takes effect on the next run", name))
		}
	}
	if sig := sourcesSig(old); sig != sourcesSig(next) {
		out = append(out, "sources changed: that takes effect on the next run")
	}
	if sinksSig(old) != sinksSig(next) {
		out = append(out, "sinks changed: that takes effect on the next run")
	}
	return out
}

func from(s *interp.Step) string {
	if s.FromStep != nil {
		return s.FromStep.Name
	}
	return s.FromSource.Name
}

func sourcesSig(p *interp.Program) string {
	var parts []string
	for _, s := range p.Sources {
		parts = append(parts, fmt.Sprintf("%s|%s|%s|%d|%s|%s", s.Name, s.Kind, s.Path, s.Limit, exprSrc(s.ID), exprSrc(s.Where)))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

func sinksSig(p *interp.Program) string {
	var parts []string
	for _, s := range p.Sinks {
		parts = append(parts, fmt.Sprintf("%s|%s|%s|%s|%v", s.Name, s.Kind, s.Path, s.From.Name, s.Failed))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

func exprSrc(e *interp.Expr) string {
	if e == nil {
		return ""
	}
	return e.Source
}
