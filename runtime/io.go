package runtime

import (
	"context"
	"time"

	"github.com/llmpipe/llmpipe/interp"
)

// Item is one record read from a source, before the source's id, where and
// limit are applied (the runtime applies them).
type Item struct {
	Index int            // 1-based position in the source
	Line  int            // 1-based line in the file, 0 when not line-based
	Data  map[string]any // the record; for lines: {"text", "line"}; for files: {"path", "name", "text"}
	Err   error          // a malformed record: it becomes a failed record, and the run goes on
	// Repaired says the record's bytes were not all valid UTF-8: the
	// source read it with U+FFFD in their place, and the run counts it.
	Repaired bool
	// Outputs, when set, are outputs of earlier steps the record already
	// carries, by step name (a test gives them for a step it runs alone).
	Outputs map[string]any
}

// Source yields items. Next returns io.EOF after the last item. Next is
// called from one goroutine; Close is called once after the last Next.
// The *Item Next returns may be reused by the next call (the runtime reads
// it before asking again); its Data and Outputs are the caller's.
type Source interface {
	Next(ctx context.Context) (*Item, error)
	Close() error
}

// Counter is implemented by sources that can count their items cheaply
// (used for progress only; it may run concurrently with Next on another handle).
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// Sink receives records. Write is called from one goroutine at a time and
// must leave whole records on disk (a crash never leaves a torn line); Close
// flushes and is called once.
type Sink interface {
	Write(ctx context.Context, rec *Record) error
	Close() error
}

// Aborter is implemented by sinks that can close without changing their
// output. Opening a sink must not change its output either (a file sink is
// emptied by its first record, not by its open), so a run that stops
// before a sink's first record aborts it, leaving what an earlier run wrote
// there, instead of closing it, which would leave an empty output.
type Aborter interface {
	Abort() error
}

// OpenSource opens a source of the program; OpenSink likewise. stdlib
// provides these for the built-in kinds. Their errors, and those of
// Source.Next, name the source or sink (`opening source "docs": …`): the
// runtime passes them on as they are rather than naming it a second time.
type (
	OpenSource func(ctx context.Context, src *interp.Source) (Source, error)
	OpenSink   func(ctx context.Context, sink *interp.Sink) (Sink, error)
)

// Record is an item as it flows through the steps: { id, item, <step>: <output>, … }.
// A sink receives the record of the step it reads from, successful or failed.
type Record struct {
	ID      string // empty for a Malformed record
	Item    map[string]any
	Outputs map[string]any // by step name: the parsed output, or the text for text steps
	Order   []string       // step names of Outputs in pipeline order (sinks write them in this order)

	// About the step this record was delivered for:
	Step     string
	Failed   bool
	Failure  *Failure // set when Failed
	Model    string   // model that answered (or the last one tried)
	Rung     int      // 0-based ladder index of Model
	Attempts int
	Usage    Usage
	Cost     Money // every attempt of this step for this item
	Plan     int   // plan version that produced it (hot reload)
	Cached   bool  // answered from the response cache without a call
	// FromStore marks a result an earlier run stored, delivered again
	// without a call; Cost, Usage and Attempts are that run's.
	FromStore bool

	// Malformed marks a source row that did not parse (or whose where or
	// id could not be evaluated): not an item, so it has no id (sinks write
	// null), is never stored, and says where it came from in SourceLine
	// (its 1-based line, or for sources without lines its 1-based index).
	Malformed  bool
	SourceLine int

	// trk tracks the item for sinks with order = "source"; nil otherwise.
	trk *itemTrack
	// idv is ID boxed, as the source's id expression gave it, so that
	// each step's env does not box it again; nil when it was not kept.
	idv any
	// orderBuf backs Order for its first step, saving an allocation per
	// record (see addOrder).
	orderBuf [1]string
}

// Failure says why an item failed at a step.
type Failure struct {
	Class     Class          `json:"class"`
	Message   string         `json:"message"`
	Errors    []AttemptError `json:"errors"`
	LastReply string         `json:"last_reply,omitempty"`
	Line      int            `json:"line,omitempty"` // malformed source record
}

// AttemptError is one failed attempt.
type AttemptError struct {
	Attempt int                 `json:"attempt"`
	Model   string              `json:"model"`
	Class   Class               `json:"class"`
	Message string              `json:"message"`
	Fields  []interp.FieldError `json:"fields,omitempty"`
	At      time.Time           `json:"at"`
}
