package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// progressLine is the one-line view of a running pipeline: done / total,
// rate, ETA, cost so far, 429s, the worker pool's current size and the mix
// of rungs that answered.
func progressLine(s runtime.Stats) string {
	done := s.Done
	var b strings.Builder
	if s.Total > 0 {
		pct := 100 * float64(done) / float64(s.Total)
		fmt.Fprintf(&b, "%s/%s items (%.1f%%)", count(done), count(int64(s.Total)), pct)
	} else {
		fmt.Fprintf(&b, "%s items", count(done))
	}
	secs := s.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(done-s.Resumed) / secs
	}
	fmt.Fprintf(&b, "  %.1f/s", rate)
	if s.Total > 0 && rate > 0 && int64(s.Total) > done {
		eta := time.Duration(float64(int64(s.Total)-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", shortDuration(eta))
	}
	fmt.Fprintf(&b, "  ok %s  failed %s", count(s.Succeeded), count(s.Failed))
	fmt.Fprintf(&b, "  $%.4f", s.Cost)
	fmt.Fprintf(&b, "  429s %d", s.RateLimited)
	if s.Workers > 0 {
		fmt.Fprintf(&b, "  workers %d", s.Workers)
	}
	if mix := rungMix(s.AnsweredBy); mix != "" {
		b.WriteString("  " + mix)
	}
	for _, m := range slices.Sorted(maps.Keys(s.Models)) {
		ms := s.Models[m]
		if ms.RPMLimit > 0 {
			fmt.Fprintf(&b, "  %s %.0f/%d rpm", shortModel(m), ms.Rate, ms.RPMLimit)
		}
	}
	b.WriteString(jobsLine(s.BatchJobs))
	return b.String()
}

// jobsLine is the progress line's part on batch jobs: each live job with
// its state and counts (the first three), and how many have ended.
func jobsLine(jobs []runtime.BatchJobStats) string {
	if len(jobs) == 0 {
		return ""
	}
	var b strings.Builder
	ended, shown, more := 0, 0, 0
	for _, j := range jobs {
		if j.State.Done() {
			ended++
			continue
		}
		if shown == 3 {
			more++
			continue
		}
		shown++
		name := strings.TrimPrefix(j.Name, "batches/")
		if name == "" {
			name = "(creating)"
		}
		fmt.Fprintf(&b, "  job %s %s %d/%d", name, j.State, j.Succeeded+j.Failed, j.Items)
		if j.Failed > 0 {
			fmt.Fprintf(&b, " (%d failed)", j.Failed)
		}
	}
	if more > 0 {
		fmt.Fprintf(&b, "  +%d jobs", more)
	}
	if ended > 0 {
		fmt.Fprintf(&b, "  jobs ended %d", ended)
	}
	return b.String()
}

func rungMix(by map[string]int64) string {
	var total int64
	for _, n := range by {
		total += n
	}
	if total == 0 || len(by) < 2 {
		return ""
	}
	parts := []string{}
	for _, m := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", shortModel(m), 100*float64(by[m])/float64(total)))
	}
	return strings.Join(parts, " ")
}

func shortModel(m string) string { return strings.TrimPrefix(m, "gemini-") }

// printSummary writes the end-of-run table.
func printSummary(w io.Writer, sum *runtime.Summary) {
	s := sum.Stats
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "  %-12s "+format+"\n", append([]any{k}, a...)...) }
	fmt.Fprintf(w, "\nrun %s in %s\n", sum.Outcome, shortDuration(s.Elapsed))
	row("items", "ok %s · failed %s · skipped %s · resumed %s", count(s.Succeeded), count(s.Failed), count(s.Skipped), count(s.Resumed))
	if s.BudgetStopped > 0 {
		// Left undone: items whose next call the budget could not afford.
		row("undone", "%s stopped by the budget (they resume on the next run)", count(s.BudgetStopped))
	}
	if s.Malformed > 0 || s.Repaired > 0 {
		// Rows that are not items (no id; in failed) and rows read with
		// U+FFFD for bytes that were not UTF-8.
		row("source rows", "malformed %s (in failed, without an id) · repaired non-UTF-8 %s", count(s.Malformed), count(s.Repaired))
	}
	row("attempts", "%s (retries %s · 429s %s · cache hits %s · recovered parses %s)",
		count(s.Attempts), count(s.Retries), count(s.RateLimited), count(s.CacheHits), count(s.Recovered))
	if len(s.ByClass) > 0 {
		parts := []string{}
		for _, k := range slices.Sorted(maps.Keys(s.ByClass)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.ByClass[k]))
		}
		row("failures", "%s", strings.Join(parts, " · "))
	}
	if len(s.Escalations) > 0 {
		keys := slices.Sorted(maps.Keys(s.Escalations))
		for i, k := range keys {
			label := ""
			if i == 0 {
				label = "escalations"
			}
			row(label, "%s  %d", k, s.Escalations[k])
		}
	}
	if len(s.AnsweredBy) > 0 {
		parts := []string{}
		keys := slices.Sorted(maps.Keys(s.AnsweredBy))
		sort.SliceStable(keys, func(i, j int) bool { return s.AnsweredBy[keys[i]] > s.AnsweredBy[keys[j]] })
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %s", k, count(s.AnsweredBy[k])))
		}
		row("answered by", "%s", strings.Join(parts, " · "))
	}
	if len(s.BatchJobs) > 0 {
		states := map[runtime.BatchState]int{}
		for _, j := range s.BatchJobs {
			states[j.State]++
		}
		parts := []string{}
		for _, k := range slices.Sorted(maps.Keys(states)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, states[k]))
		}
		row("batch", "%s answered by %s (%s) at batch prices", count(s.BatchAnswered), plural(len(s.BatchJobs), "job", "jobs"), strings.Join(parts, " · "))
	}
	u := s.Usage
	row("tokens", "prompt %s (cached %s) · output %s · thinking %s", count(int64(u.PromptTokens)), count(int64(u.CachedTokens)), count(int64(u.OutputTokens)), count(int64(u.ThinkingTokens)))
	costLine := fmt.Sprintf("$%.4f", s.Cost)
	if sum.Budget > 0 {
		costLine += " of $" + strconv.FormatFloat(sum.Budget, 'f', -1, 64) + " budget"
	}
	if s.TopRungCost > 0 {
		costLine += fmt.Sprintf(" · every answer on the top rung: $%.4f", s.TopRungCost)
	}
	row("cost", "%s", costLine)
	if line := cacheLine(sum); line != "" {
		row("caches", "%s", line)
	}
	if s.LatencyP50 > 0 {
		row("latency", "p50 %s · p90 %s · p99 %s per call", shortDuration(s.LatencyP50), shortDuration(s.LatencyP90), shortDuration(s.LatencyP99))
	}
	for _, m := range slices.Sorted(maps.Keys(s.Models)) {
		ms := s.Models[m]
		lim := "no limit"
		if ms.RPMLimit > 0 {
			lim = fmt.Sprintf("limit %d rpm", ms.RPMLimit)
		}
		row("model", "%s: %s calls · %s 429s · %s", m, count(ms.Calls), count(ms.RateLimited), lim)
	}
}

// cacheLine sums up the shared-context caches: what they cost, the tokens
// they served and the net saving against sending their content inline
// (negative when too few requests used them to pay for creation and
// storage).
func cacheLine(sum *runtime.Summary) string {
	if sum.CachesCreated == 0 && sum.CachesInline == 0 {
		return ""
	}
	parts := []string{}
	if sum.CachesCreated > 0 {
		parts = append(parts,
			fmt.Sprintf("%d created", sum.CachesCreated),
			fmt.Sprintf("$%.4f creation + storage", sum.CacheCost),
			fmt.Sprintf("%s cached tokens", count(int64(sum.Usage.CachedTokens))))
		if sum.CacheSaved >= 0 {
			parts = append(parts, fmt.Sprintf("saved $%.4f against sending the content inline", sum.CacheSaved))
		} else {
			parts = append(parts, fmt.Sprintf("cost $%.4f more than sending the content inline", -sum.CacheSaved))
		}
	}
	if sum.CachesInline > 0 {
		parts = append(parts, fmt.Sprintf("%d sent inline (below the model's minimum cache size)", sum.CachesInline))
	}
	return strings.Join(parts, " · ")
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}
