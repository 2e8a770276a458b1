package web

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// ItemView is one item's page and the /api/items/{id} answer: per step,
// its terminal result and every attempt in the order they were made.
type ItemView struct {
	Item  string     `json:"item"`
	Steps []ItemStep `json:"steps"`
}

// ItemStep is what happened to the item at one step.
type ItemStep struct {
	Step     string        `json:"step"`
	Result   *ResultView   `json:"result,omitempty"` // under the step's current version, else the newest
	Older    []ResultView  `json:"older_results,omitempty"`
	Attempts []AttemptView `json:"attempts"`
}

// ResultView is a terminal result: the final record.
type ResultView struct {
	Outcome     string        `json:"outcome"` // ok or failed
	Model       string        `json:"model"`
	Rung        int           `json:"rung"`
	Attempts    int           `json:"attempts"`
	Usage       runtime.Usage `json:"usage"`
	Cost        float64       `json:"cost"`
	Output      string        `json:"output,omitempty"` // indented JSON
	Class       string        `json:"class,omitempty"`
	Message     string        `json:"message,omitempty"`
	LastReply   string        `json:"last_reply,omitempty"`
	Plan        int           `json:"plan"` // the pipeline version (reload count) that produced it
	Fingerprint string        `json:"fingerprint"`
	Current     bool          `json:"current"` // made by the step as the pipeline is now
	Run         int64         `json:"run"`
	At          time.Time     `json:"at,omitzero"`

	errs []runtime.AttemptError // the failed attempts of a failed result
}

// AttemptView is one call (or response-cache answer) and what became of it.
type AttemptView struct {
	Run     int64  `json:"run"`
	Attempt int    `json:"attempt"`
	Rung    int    `json:"rung"`
	Model   string `json:"model"`
	// Verdict is the attempt's outcome: ok, the error class of the call
	// (transient, fatal, …) or of its reply (invalid_output,
	// check_failed), or "rejected" when the reply failed validation but
	// the store does not say how (the item succeeded later: the reasons
	// are in the next attempt's feedback).
	Verdict  string              `json:"verdict"`
	Checks   []CheckView         `json:"checks,omitempty"`
	System   string              `json:"system,omitempty"`
	Cache    string              `json:"cache,omitempty"`
	User     string              `json:"user"`
	Feedback string              `json:"feedback,omitempty"`
	Reply    string              `json:"reply,omitempty"`
	Parsed   string              `json:"parsed,omitempty"` // the reply as parsed (indented JSON), when it was the accepted one
	Error    string              `json:"error,omitempty"`
	Fields   []interp.FieldError `json:"field_errors,omitempty"`
	Usage    runtime.Usage       `json:"usage"`
	Cost     float64             `json:"cost"`
	Latency  time.Duration       `json:"latency_ns"`
	Cached   bool                `json:"from_response_cache"`
	At       time.Time           `json:"at,omitzero"`
}

// CheckView is one check of the step on one attempt's reply.
type CheckView struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Passed  bool   `json:"passed"`
}

// itemView assembles an item from the store; nil when the store has nothing.
func (s *Server) itemView(ctx context.Context, id string) (*ItemView, error) {
	h, err := s.opts.Store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(h.Attempts) == 0 && len(h.Results) == 0 {
		return nil, nil
	}
	v := &ItemView{Item: id}
	steps := map[string]*ItemStep{}
	var order []string
	step := func(name string) *ItemStep {
		st := steps[name]
		if st == nil {
			st = &ItemStep{Step: name, Attempts: []AttemptView{}}
			steps[name] = st
			order = append(order, name)
		}
		return st
	}
	progSteps := map[string]*interp.Step{}
	if p := s.opts.Program; p != nil {
		for _, st := range p.Steps {
			progSteps[st.Name] = st
		}
	}
	for _, r := range h.Results {
		st := step(r.Step)
		rv := resultView(r, progSteps[r.Step])
		if st.Result == nil || (rv.Current && !st.Result.Current) {
			if st.Result != nil {
				st.Older = append(st.Older, *st.Result)
			}
			st.Result = &rv
		} else {
			st.Older = append(st.Older, rv)
		}
	}
	for i, a := range h.Attempts {
		st := step(a.Step)
		av := AttemptView{Run: a.RunID, Attempt: a.Attempt, Rung: a.Rung, Model: a.Model, System: a.System,
			Cache: a.Cache, User: a.Prompt, Feedback: a.Feedback, Reply: a.Reply, Error: a.Error,
			Usage: a.Usage, Cost: a.Cost.Dollars(), Latency: a.Latency, Cached: a.Cached, At: a.At, Verdict: a.Status}
		if a.Feedback != "" {
			av.User = strings.TrimSuffix(a.Prompt, "\n\n"+a.Feedback)
		}
		if a.Status == "ok" {
			s.judge(&av, h.Attempts[i+1:], st.Result, progSteps[a.Step], a)
		}
		st.Attempts = append(st.Attempts, av)
	}
	for _, name := range order {
		v.Steps = append(v.Steps, *steps[name])
	}
	return v, nil
}

// judge tells what became of a reply: the failed result's errors name the
// attempts that failed validation; the last attempt of a succeeded result
// passed; any other reply followed by another attempt was rejected.
func (s *Server) judge(av *AttemptView, later []runtime.Attempt, res *ResultView, step *interp.Step, a runtime.Attempt) {
	var checks []*interp.CheckRule
	if step != nil {
		checks = step.Checks
	}
	if res != nil && res.Run == a.RunID && res.errs != nil {
		for _, e := range res.errs {
			if e.Attempt != a.Attempt {
				continue
			}
			av.Verdict, av.Fields = e.Class.String(), e.Fields
			if e.Class == runtime.ClassCheckFailed {
				failed := map[string]string{}
				for _, f := range e.Fields {
					failed[f.Field] = f.Message
				}
				for _, c := range checks {
					name := checkName(c)
					msg, bad := failed[name]
					if !bad {
						msg = c.Message
					}
					av.Checks = append(av.Checks, CheckView{Name: name, Message: msg, Passed: !bad})
				}
			}
			return
		}
	}
	next := false
	for _, b := range later {
		if b.Step == a.Step && b.RunID == a.RunID {
			next = true
			break
		}
	}
	if next {
		av.Verdict = "rejected"
		return
	}
	if res != nil && res.Outcome == "ok" && res.Run == a.RunID {
		av.Verdict = "ok"
		av.Parsed = res.Output
		for _, c := range checks {
			av.Checks = append(av.Checks, CheckView{Name: checkName(c), Message: c.Message, Passed: true})
		}
		return
	}
	av.Verdict = "unfinished"
}

func checkName(c *interp.CheckRule) string {
	if c.Field == "" {
		return "output"
	}
	return c.Field
}

func resultView(r runtime.Result, step *interp.Step) ResultView {
	rv := ResultView{Outcome: "ok", Model: r.Model, Rung: r.Rung, Attempts: r.Attempts, Usage: r.Usage, Cost: r.Cost.Dollars(),
		Plan: r.Plan, Fingerprint: r.Fingerprint, Run: r.RunID, At: r.At}
	rv.Current = step != nil && step.Fingerprint() == r.Fingerprint
	if len(r.Output) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, r.Output, "", "  ") == nil {
			rv.Output = b.String()
		} else {
			rv.Output = string(r.Output)
		}
	}
	if !r.OK {
		rv.Outcome = "failed"
		if f := r.Failure; f != nil {
			rv.Class, rv.Message, rv.LastReply = f.Class.String(), f.Message, f.LastReply
			rv.errs = f.Errors
		}
	}
	return rv
}
