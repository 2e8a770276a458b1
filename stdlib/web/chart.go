package web

import (
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// chart is one SVG line chart, rendered on the server so it shows without
// JavaScript.
type chart struct {
	Title  string
	SVG    template.HTML
	Legend []legendEntry
	Note   string
}

type legendEntry struct {
	Name  string
	Color string
	Dash  bool
}

type line struct {
	name  string
	ys    []float64
	color string
	dash  bool
}

var palette = []string{"#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d"}

const (
	chartW, chartH = 640, 170
	padL, padR     = 56, 12
	padT, padB     = 10, 22
)

// charts builds the overview's charts: calls per minute by model against
// the RPM limits the pipeline sets, the live run's use of each model's
// quota, and the run's spend.
func (s *Server) charts(se series, sum *Summary) []chart {
	var out []chart
	if len(se.seconds) >= 2 {
		var lines []line
		models := slices.Sorted(maps.Keys(se.calls))
		for i, id := range models {
			lines = append(lines, line{name: id, ys: perMinute(se.calls[id]), color: palette[i%len(palette)]})
		}
		for i, id := range models {
			for _, m := range sum.Models {
				if m.Model == id && m.RPM > 0 && !sum.Live {
					lines = append(lines, line{name: id + " limit", ys: flat(float64(m.RPM), len(se.seconds)), color: palette[i%len(palette)], dash: true})
				}
			}
		}
		out = append(out, render("Calls per minute, by model", se.seconds, lines, "%.0f/min"))
		out = append(out, render("Spend in this run", se.seconds, []line{{name: "spent", ys: se.cost, color: palette[2]}}, "$%.4f"))
	}
	s.mu.Lock()
	smp := slices.Clone(s.samples)
	s.mu.Unlock()
	if sum.Live && len(smp) >= 2 {
		var secs []int64
		series := map[string][]float64{}
		for _, p := range smp {
			secs = append(secs, p.at.Unix())
		}
		for i, p := range smp {
			for id, u := range p.rpmUse {
				if series[id] == nil {
					series[id] = make([]float64, len(smp))
				}
				series[id][i] = 100 * u
			}
		}
		if len(series) > 0 {
			var lines []line
			for i, id := range slices.Sorted(maps.Keys(series)) {
				lines = append(lines, line{name: id, ys: series[id], color: palette[i%len(palette)]})
			}
			lines = append(lines, line{name: "limit", ys: flat(100, len(smp)), color: "#6b7280", dash: true})
			c := render("Requests in the quota window, % of the RPM limit", secs, lines, "%.0f%%")
			out = append(out, c)
		}
	}
	return out
}

// perMinute turns calls per second into calls per minute over a sliding
// ten-second window, smooth enough to read.
func perMinute(perSec []float64) []float64 {
	const w = 10
	out := make([]float64, len(perSec))
	var sum float64
	for i, v := range perSec {
		sum += v
		if i >= w {
			sum -= perSec[i-w]
		}
		out[i] = sum * 60 / float64(min(i+1, w))
	}
	return out
}

func flat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// render draws lines over the x values xs (unix seconds) into an SVG.
func render(title string, xs []int64, lines []line, yFormat string) chart {
	c := chart{Title: title}
	ymax := 0.0
	for _, l := range lines {
		for _, y := range l.ys {
			ymax = math.Max(ymax, y)
		}
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax *= 1.1
	x0, x1 := xs[0], xs[len(xs)-1]
	span := float64(max(x1-x0, 1))
	px := func(x int64) float64 { return padL + float64(x-x0)/span*(chartW-padL-padR) }
	py := func(y float64) float64 { return padT + (1-y/ymax)*(chartH-padT-padB) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, template.HTMLEscapeString(title))
	// Axes and grid: zero, half and the top.
	for _, f := range []float64{0, 0.5, 1} {
		y := py(f * ymax / 1.1)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-4, y+4,
			template.HTMLEscapeString(fmt.Sprintf(yFormat, f*ymax/1.1)))
	}
	t0 := time.Unix(x0, 0).Local()
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick">%s</text>`, padL, chartH-4, t0.Format("15:04:05"))
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, chartW-padR, chartH-4,
		time.Unix(x1, 0).Local().Format("15:04:05"))
	for _, l := range lines {
		var pts strings.Builder
		for i, y := range l.ys {
			if i >= len(xs) {
				break
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(xs[i]), py(y))
		}
		dash := ""
		if l.dash {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>`,
			l.color, dash, strings.TrimSpace(pts.String()), template.HTMLEscapeString(l.name))
		c.Legend = append(c.Legend, legendEntry{Name: l.name, Color: l.color, Dash: l.dash})
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	return c
}
