package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/store"
)

// historyLimit bounds the runs the history shows.
const historyLimit = 200

var funcs = template.FuncMap{
	"money":  func(v float64) string { return fmt.Sprintf("$%.4f", v) },
	"money6": func(v float64) string { return fmt.Sprintf("$%.6f", v) },
	"count":  count,
	"pct": func(v float64) string {
		if v < 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f%%", 100*v)
	},
	"dur": func(d time.Duration) string { return shortDuration(d) },
	"secs": func(s float64) string {
		if s < 0 {
			return "–"
		}
		return shortDuration(time.Duration(s * float64(time.Second)))
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"pathEscape": url.PathEscape,
	"add":        func(a, b int) int { return a + b },
	"join":       strings.Join,
	"list":       func(v ...string) []string { return v },
	"has":        func(l []string, v string) bool { return slices.Contains(l, v) },
	"rungName": func(ladder []string, i int) string {
		if i < len(ladder) {
			return ladder[i]
		}
		return fmt.Sprintf("rung %d", i)
	},
	"tokens": func(p, o int) string { return count(p + o) },
}

// count prints an integer with thousands separators; negative is unknown.
func count(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Sprint(v)
	}
	if n < 0 {
		return "–"
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
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
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// page is what every template gets.
type page struct {
	Title    string
	Pipeline string
	Nav      string
	Live     bool
	Data     any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	p.Pipeline = s.opts.Pipeline
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, p); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	http.Error(w, err.Error(), code)
}

func (s *Server) pageOverview(w http.ResponseWriter, r *http.Request) {
	sum, err := s.summary(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	name := "overview.html"
	if r.URL.Query().Get("part") == "body" {
		name = "overview-body" // the live refresh swaps only this
	}
	s.render(w, r, name, page{Title: "Overview", Nav: "overview", Live: sum.Live, Data: overviewData{Summary: sum, Charts: sum.charts}})
}

type overviewData struct {
	*Summary
	Charts []chart
}

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.summary(r.Context())
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, sum)
}

// RunsView is the /api/runs answer.
type RunsView struct {
	Runs      []RunView  `json:"runs"`
	BatchJobs []BatchJob `json:"batch_jobs,omitempty"`
}

// BatchJob is a provider batch job recorded in the store.
type BatchJob struct {
	ID          int64     `json:"id"`
	Run         int64     `json:"run"`
	Step        string    `json:"step"`
	Model       string    `json:"model"`
	DisplayName string    `json:"display_name"`
	Name        string    `json:"name"`
	State       string    `json:"state"`
	Items       int       `json:"items"`
	Done        int       `json:"done"`
	Failed      int       `json:"failed"`
	Created     time.Time `json:"created,omitzero"`
	Ended       time.Time `json:"ended,omitzero"`
}

func (s *Server) runsView(r *http.Request) (*RunsView, error) {
	runs, err := s.opts.Store.Runs(r.Context(), historyLimit)
	if err != nil {
		return nil, err
	}
	v := &RunsView{Runs: []RunView{}}
	now := s.opts.Now()
	for _, run := range runs {
		v.Runs = append(v.Runs, runView(run, now))
	}
	// Only the newest run can still be going; an older one that never
	// ended was stopped.
	for i := range v.Runs {
		if i > 0 && v.Runs[i].Running {
			v.Runs[i].Running, v.Runs[i].Stalled = false, true
		}
	}
	if len(v.Runs) > 0 {
		if err := s.liveness(r.Context(), &v.Runs[0]); err != nil {
			return nil, err
		}
	}
	jobs, err := s.opts.Store.BatchJobs(r.Context())
	if err != nil {
		return nil, err
	}
	for _, j := range jobs[:min(len(jobs), historyLimit)] {
		v.BatchJobs = append(v.BatchJobs, BatchJob{ID: j.ID, Run: j.RunID, Step: j.Step, Model: j.Model,
			DisplayName: j.DisplayName, Name: j.Name, State: string(j.State), Items: j.ItemCount,
			Done: j.Done, Failed: j.Failed, Created: j.Created, Ended: j.Ended})
	}
	return v, nil
}

func (s *Server) pageRuns(w http.ResponseWriter, r *http.Request) {
	v, err := s.runsView(r)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, "runs.html", page{Title: "Runs", Nav: "runs", Data: v})
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	v, err := s.runsView(r)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, v)
}

// itemQuery reads the items filters from the URL. The step defaults to the
// pipeline's first, and results are those of the step as it is now.
func (s *Server) itemQuery(r *http.Request) (store.ItemQuery, error) {
	v := r.URL.Query()
	q := store.ItemQuery{Step: v.Get("step"), Outcome: v.Get("outcome"), Check: v.Get("check"),
		Prefix: v.Get("prefix"), Rung: -1}
	if p := s.opts.Program; p != nil && len(p.Steps) > 0 && !v.Has("step") {
		q.Step = p.Steps[0].Name
	}
	if p := s.opts.Program; p != nil {
		for _, st := range p.Steps {
			if st.Name == q.Step {
				q.Fingerprint = st.Fingerprint()
			}
		}
	}
	if rung := v.Get("rung"); rung != "" {
		n, err := strconv.Atoi(rung)
		if err != nil || n < 0 {
			return q, fmt.Errorf("rung %q: want a rung number (0 is the first model)", rung)
		}
		q.Rung = n
	}
	if page := v.Get("page"); page != "" {
		n, err := strconv.Atoi(page)
		if err != nil || n < 1 {
			return q, fmt.Errorf("page %q: want a page number from 1", page)
		}
		q.Page = n - 1
	}
	if size := v.Get("page_size"); size != "" {
		n, err := strconv.Atoi(size)
		if err != nil || n < 1 {
			return q, fmt.Errorf("page_size %q: want a positive number", size)
		}
		q.PageSize = n
	}
	return q, nil
}

// ItemsView is the items page's content.
type ItemsView struct {
	Query  store.ItemQuery
	Page   *store.ItemPage
	Steps  []string
	Checks []string // check names of the selected step
	Rungs  []int
	Prev   string // URL of the previous page, "" on the first
	Next   string
}

// items answers the filter in r's query string; on a bad filter it has
// already answered 400 and ok is false. The page and the API share it.
func (s *Server) items(w http.ResponseWriter, r *http.Request) (q store.ItemQuery, pg *store.ItemPage, ok bool) {
	q, err := s.itemQuery(r)
	if err == nil {
		pg, err = s.opts.Store.Items(r.Context(), q)
	}
	if err != nil {
		fail(w, r, http.StatusBadRequest, err)
		return q, nil, false
	}
	return q, pg, true
}

func (s *Server) pageItems(w http.ResponseWriter, r *http.Request) {
	q, pg, ok := s.items(w, r)
	if !ok {
		return
	}
	v := ItemsView{Query: q, Page: pg}
	if p := s.opts.Program; p != nil {
		for _, st := range p.Steps {
			v.Steps = append(v.Steps, st.Name)
			if st.Name == q.Step {
				for _, c := range st.Checks {
					v.Checks = append(v.Checks, checkName(c))
				}
				for i := range st.Models {
					v.Rungs = append(v.Rungs, i)
				}
			}
		}
	}
	link := func(page int) string {
		u := *r.URL
		qs := u.Query()
		qs.Set("page", strconv.Itoa(page))
		u.RawQuery = qs.Encode()
		return u.RequestURI()
	}
	if pg.Page > 0 {
		v.Prev = link(pg.Page)
	}
	if pg.More {
		v.Next = link(pg.Page + 2)
	}
	s.render(w, r, "items.html", page{Title: "Items", Nav: "items", Data: v})
}

func (s *Server) apiItems(w http.ResponseWriter, r *http.Request) {
	_, pg, ok := s.items(w, r)
	if !ok {
		return
	}
	pg.Page++ // 1-based in the API, as in the page parameter
	writeJSON(w, pg)
}

var errNoItem = errors.New("no such item in the store")

func (s *Server) pageItem(w http.ResponseWriter, r *http.Request) {
	v, err := s.itemView(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if v == nil {
		fail(w, r, http.StatusNotFound, fmt.Errorf("%w: %q", errNoItem, r.PathValue("id")))
		return
	}
	s.render(w, r, "item.html", page{Title: "Item " + v.Item, Nav: "items", Data: v})
}

func (s *Server) apiItem(w http.ResponseWriter, r *http.Request) {
	v, err := s.itemView(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if v == nil {
		fail(w, r, http.StatusNotFound, fmt.Errorf("%w: %q", errNoItem, r.PathValue("id")))
		return
	}
	writeJSON(w, v)
}
