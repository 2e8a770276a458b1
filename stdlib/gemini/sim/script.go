package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// ScriptLine answers the requests it matches with a chosen reply, error or
// fault. In a JSONL script each line is one ScriptLine, for example
//
//	{"item": "a1", "model": "gemini-2.5-flash-lite", "call": 1, "text": "{\"age\": 34}"}
//	{"item": "*", "call": 2, "status": 503, "message": "overloaded", "delay": "2s"}
//	{"item": "b7", "status": 429, "retry_delay": "3s", "quota_id": "GenerateRequestsPerMinutePerProjectPerModel"}
//	{"item": "c2", "fault": "reset"}
type ScriptLine struct {
	// Item is the x-llmpipe-item header to match, or "*" for any.
	Item string `json:"item"`
	// Model matches the model id ("" for any); a "models/" prefix is ignored.
	Model string `json:"model,omitempty"`
	// Call matches the n-th generate call (1-based) for this (item, model)
	// pair; 0 for any.
	Call int `json:"call,omitempty"`

	// Text is the reply's text when Status and Fault are unset.
	Text string `json:"text,omitempty"`
	// Status, if not 0, answers with a Gemini error of this HTTP status.
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryDelay and QuotaID fill the QuotaFailure and RetryInfo details of
	// a 429.
	RetryDelay Duration `json:"retry_delay,omitempty"`
	QuotaID    string   `json:"quota_id,omitempty"`
	// Fault, if set, is one of hang, reset or truncate (or any FaultKinds).
	Fault string `json:"fault,omitempty"`
	// Delay replaces the latency model for this reply.
	Delay Duration `json:"delay,omitempty"`
}

// Duration reads "2s"-style JSON strings.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration %s: want a string like \"2s\"", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (l *ScriptLine) check() error {
	if l.Item == "" {
		return fmt.Errorf("script line %+v: item is required (use \"*\" for any)", *l)
	}
	if l.Fault != "" && !isFaultKind(l.Fault) {
		return fmt.Errorf("script line for item %q: unknown fault %q", l.Item, l.Fault)
	}
	if l.Status != 0 && (l.Status < 400 || l.Status > 599) {
		return fmt.Errorf("script line for item %q: status %d is not an error status", l.Item, l.Status)
	}
	return nil
}

func (l *ScriptLine) matches(item, model string, call int) bool {
	return (l.Item == "*" || l.Item == item) &&
		(l.Model == "" || strings.TrimPrefix(l.Model, "models/") == model) &&
		(l.Call == 0 || l.Call == call)
}

// LoadScript reads a JSONL script; blank lines and lines starting with #
// or // are skipped.
func LoadScript(path string) ([]ScriptLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading script: %w", err)
	}
	defer f.Close()
	var out []ScriptLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, []byte("//")) {
			continue
		}
		var l ScriptLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading script: %w", err)
	}
	return out, nil
}

// scriptFor returns the first line matching, or nil.
func scriptFor(lines []ScriptLine, item, model string, call int) *ScriptLine {
	for i := range lines {
		if lines[i].matches(item, model, call) {
			return &lines[i]
		}
	}
	return nil
}
