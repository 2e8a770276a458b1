package interp

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dump returns a compact, stable text form of the program for golden tests
// and `llmpipe check -v`: one line per block, paths relative to Dir, no
// positions.
func (p *Program) Dump() string {
	var b strings.Builder
	rel := func(path string) string {
		if r, err := filepath.Rel(p.Dir, path); err == nil {
			return filepath.ToSlash(r)
		}
		return path
	}
	for _, s := range p.Sources {
		fmt.Fprintf(&b, "source %s %s %q", s.Name, s.Kind, rel(s.Path))
		switch {
		case s.Schema != nil:
			fmt.Fprintf(&b, " schema=%s", s.Schema.Name)
		case s.Item != nil:
			names := make([]string, len(s.Item.Fields))
			for i, f := range s.Item.Fields {
				names[i] = f.Name
			}
			fmt.Fprintf(&b, " header=[%s]", strings.Join(names, ", "))
		}
		if s.ID != nil {
			fmt.Fprintf(&b, " id=(%s)", s.ID.canon)
		}
		if s.Where != nil {
			fmt.Fprintf(&b, " where=(%s)", s.Where.canon)
		}
		if s.Limit > 0 {
			fmt.Fprintf(&b, " limit=%d", s.Limit)
		}
		b.WriteString("\n")
	}
	for _, s := range p.Schemas {
		fmt.Fprintf(&b, "schema %s %s\n", s.Name, typeString(s.Type))
	}
	for _, m := range p.Models {
		fmt.Fprintf(&b, "model %s id=%q", m.Name, m.ID)
		// Pointers print when set, even to 0; plain ints when non-zero.
		opt := func(name, v string) {
			if v != "-" && v != "0" || strings.HasPrefix(name, "*") {
				name = strings.TrimPrefix(name, "*")
				if v == "-" {
					return
				}
				fmt.Fprintf(&b, " %s=%s", name, v)
			}
		}
		opt("*temperature", fptr(m.Temperature))
		opt("*top_p", fptr(m.TopP))
		opt("*top_k", iptr(m.TopK))
		opt("max_output_tokens", strconv.Itoa(m.MaxOutputTokens))
		opt("min_output_tokens", strconv.Itoa(m.MinOutputTokens))
		opt("*thinking_budget", iptr(m.ThinkingBudget))
		opt("rpm", strconv.Itoa(m.RPM))
		opt("tpm", strconv.Itoa(m.TPM))
		opt("rpd", strconv.Itoa(m.RPD))
		opt("concurrency", strconv.Itoa(m.Concurrency))
		if m.Price != nil {
			fmt.Fprintf(&b, " price=%g/%g/%g/%g", m.Price.InputPerM, m.Price.OutputPerM, m.Price.CachedPerM, m.Price.StoragePerMHour)
		}
		b.WriteString("\n")
	}
	for _, c := range p.Caches {
		fmt.Fprintf(&b, "cache %s ttl=%s system=%d bytes\n", c.Name, dur(c.TTL), len(c.System))
	}
	for _, s := range p.Steps {
		from := ""
		if s.FromSource != nil {
			from = "source " + s.FromSource.Name
		} else if s.FromStep != nil {
			from = "step " + s.FromStep.Name
		}
		ids := make([]string, len(s.Models))
		for i, m := range s.Models {
			ids[i] = m.Name
		}
		fmt.Fprintf(&b, "step %s from=%s models=[%s]", s.Name, from, strings.Join(ids, " "))
		if s.Output != nil {
			fmt.Fprintf(&b, " output=%s", s.Output.Name)
		}
		if s.Cache != nil {
			fmt.Fprintf(&b, " cache=%s", s.Cache.Name)
		}
		fmt.Fprintf(&b, " timeout=%s retry=%d/%d/%s..%s\n", dur(s.Timeout), s.Retry.Attempts, s.Retry.EscalateAfter, dur(s.Retry.BackoffMin), dur(s.Retry.BackoffMax))
		if s.Where != nil {
			fmt.Fprintf(&b, "  where %s\n", s.Where.canon)
		}
		if s.System != nil {
			fmt.Fprintf(&b, "  system %s\n", s.System.canon)
		}
		if s.Prompt != nil {
			fmt.Fprintf(&b, "  prompt %s\n", s.Prompt.canon)
		}
		for _, c := range s.Checks {
			field := ""
			if c.Field != "" {
				field = c.Field + " "
			}
			fmt.Fprintf(&b, "  check %s%q: %s\n", field, c.Message, c.Expr.canon)
		}
		if s.Retry.Feedback != nil {
			fmt.Fprintf(&b, "  feedback %s\n", s.Retry.Feedback.canon)
		}
	}
	for _, s := range p.Sinks {
		from := s.From.Name
		if s.Failed {
			from += ".failed"
		}
		order := ""
		if s.Order == OrderSource {
			order = " order=source"
		}
		fmt.Fprintf(&b, "sink %s from=%s %s %q%s\n", s.Name, from, s.Kind, rel(s.Path), order)
	}
	c := p.Config
	fmt.Fprintf(&b, "config workers=%d budget=%g provider=%s tier=%d", c.Workers, c.Budget, c.Provider, c.Tier)
	if c.MaxWorkers > 0 {
		fmt.Fprintf(&b, " max_workers=%d", c.MaxWorkers)
	}
	if c.Store != "" {
		fmt.Fprintf(&b, " store=%q", rel(c.Store))
	}
	b.WriteString("\n")
	for _, r := range p.Reads {
		fmt.Fprintf(&b, "reads %q\n", rel(r))
	}
	for _, t := range p.Tests {
		fmt.Fprintf(&b, "test %s step=%s item=%s replies=%d\n", t.Name, t.Step.Name, Show(t.Item), len(t.Replies))
		for _, name := range slices.Sorted(maps.Keys(t.Upstream)) {
			fmt.Fprintf(&b, "  given %s = %s\n", name, Show(t.Upstream[name]))
		}
		for _, e := range t.Expects {
			fmt.Fprintf(&b, "  expect %s\n", e.Expr.canon)
		}
	}
	return b.String()
}

// dur prints whole hours and minutes without the zero parts Go adds.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// typeString prints a schema type in the language's own syntax.
func typeString(t *Type) string {
	switch t.Kind {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	case KindEnum:
		return strings.Join(quoteEach(t.Enum), " | ")
	case KindList:
		return "[" + typeString(t.Elem) + "]"
	}
	parts := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		opt := ""
		if f.Optional {
			opt = "?"
		}
		parts[i] = f.Name + " " + typeString(f.Type) + opt
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func quoteEach(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}
