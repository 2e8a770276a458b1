package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// runtime.Class marshals to its name but has no UnmarshalText, so a stored
// Failure is decoded through this mirror with the classes as strings.
type storedFailure struct {
	Class     string               `json:"class"`
	Message   string               `json:"message"`
	Errors    []storedAttemptError `json:"errors"`
	LastReply string               `json:"last_reply"`
	Line      int                  `json:"line"`
}

type storedAttemptError struct {
	Attempt int                 `json:"attempt"`
	Model   string              `json:"model"`
	Class   string              `json:"class"`
	Message string              `json:"message"`
	Fields  []interp.FieldError `json:"fields"`
	At      time.Time           `json:"at"`
}

func decodeFailure(text string, f *runtime.Failure) error {
	var sf storedFailure
	if err := json.Unmarshal([]byte(text), &sf); err != nil {
		return err
	}
	c, err := parseClass(sf.Class)
	if err != nil {
		return err
	}
	*f = runtime.Failure{Class: c, Message: sf.Message, LastReply: sf.LastReply, Line: sf.Line}
	for _, e := range sf.Errors {
		c, err := parseClass(e.Class)
		if err != nil {
			return err
		}
		f.Errors = append(f.Errors, runtime.AttemptError{
			Attempt: e.Attempt, Model: e.Model, Class: c, Message: e.Message, Fields: e.Fields, At: e.At,
		})
	}
	return nil
}

// parseClass inverts runtime.Class.String, including its "class(N)" form.
func parseClass(name string) (runtime.Class, error) {
	for c := runtime.Class(0); c < 64; c++ {
		if c.String() == name {
			return c, nil
		}
	}
	var n int
	if _, err := fmt.Sscanf(name, "class(%d)", &n); err == nil {
		return runtime.Class(n), nil
	}
	return 0, fmt.Errorf("unknown failure class %q", name)
}
