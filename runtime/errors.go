package runtime

import (
	"errors"
	"fmt"
	"time"
)

// Class is why an attempt failed; it decides what happens next.
type Class int

const (
	ClassTransient     Class = iota // 5xx, resets, timeouts: retry the same rung with backoff
	ClassRateLimit                  // 429: wait for the model's quota; not an attempt
	ClassInvalidOutput              // the reply does not parse against the schema
	ClassCheckFailed                // a check was false
	ClassFatal                      // 400, auth, safety block: fail the item now
	// ClassMaxTokens is a reply cut at the request's output cap: asked
	// again on the same rung with a larger cap; not a validation attempt.
	ClassMaxTokens
)

var classNames = [...]string{"transient", "rate_limit", "invalid_output", "check_failed", "fatal", "max_tokens"}

// FinishMaxTokens is the finish reason of a reply cut at maxOutputTokens.
const FinishMaxTokens = "MAX_TOKENS"

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// MarshalText writes the class's snake_case name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unknown failure class %q", b)
}

// QuotaAxis is the quota a 429 names.
type QuotaAxis string

const (
	AxisRPM     QuotaAxis = "rpm"
	AxisTPM     QuotaAxis = "tpm"
	AxisRPD     QuotaAxis = "rpd"
	AxisUnknown QuotaAxis = ""
)

// QuotaViolation is one QuotaFailure violation of a 429.
type QuotaViolation struct {
	Axis    QuotaAxis
	Model   string // quotaDimensions.model
	QuotaID string
	Value   int64 // quotaValue, 0 when absent
}

// Error is a classified provider error. Providers return it (or wrap it).
type Error struct {
	Class      Class
	Status     int    // HTTP status, 0 for transport errors
	Message    string // the server's message
	RetryDelay time.Duration
	Quota      []QuotaViolation // for 429s; empty for a bare 429
	CacheGone  bool             // the named cached content is expired or unknown
	TooSmall   bool             // cache create refused: content under the minimum size
	// Unreachable says the call never reached the endpoint (connection
	// refused, no such host, no route): the endpoint is down, not the
	// request wrong. Such calls are not attempts; see the run's breaker.
	Unreachable bool
	Err         error // underlying error, if any
}

func (e *Error) Error() string {
	return e.Class.String() + ": " + e.Detail()
}

// Detail is the error's text without its class, "HTTP 400: Request
// contains an invalid argument.": what a failure records as its message,
// beside the class it records on its own.
func (e *Error) Detail() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
	}
	return msg
}

// failureMessage is the message an attempt or item failed by err records
// next to its class: an *Error's Detail, so that "class: message" does not
// print the class twice ("fatal: fatal (400): …"); any other error's text.
func failureMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && error(e) == err {
		return e.Detail()
	}
	return err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// PerDay reports whether any violation is a per-day quota.
func (e *Error) PerDay() bool {
	for _, v := range e.Quota {
		if v.Axis == AxisRPD {
			return true
		}
	}
	return false
}

// ClassOf classifies any error from a provider: an *Error carries its
// class; anything else, a deadline included, is transient (a network
// problem we cannot name). Cancellation is not classified here: callers
// check their ctx before they look at the class.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassTransient
}
