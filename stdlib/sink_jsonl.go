package stdlib

import (
	"context"
	"slices"
	"strconv"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// jsonlSink writes one record per line:
//
//	{"id": …, "item": {…}, "<step>": <output>, …, "_meta": {…}}
//
// with the step outputs in pipeline order (Record.Order; outputs it does not
// name follow, sorted). A failed record has an "error" object before "_meta".
// Keys inside item and outputs come out sorted (encoding/json's map order).
type jsonlSink struct {
	sink *interp.Sink
	w    *recordWriter
	enc  jsonAppender // its buf holds the record being encoded
	keys []string
	// itemKeys are the sorted keys of the last record's item (see
	// jsonAppender.objectLike).
	itemKeys []string
}

func openJSONLSink(sink *interp.Sink) (*jsonlSink, error) {
	w, err := openRecordWriter(sink.Path)
	if err != nil {
		return nil, err
	}
	// The appender never escapes HTML: model text is full of <, > and &.
	return &jsonlSink{sink: sink, w: w}, nil
}

// recordMeta is the "_meta" object of a record.
type recordMeta struct {
	Model    string        `json:"model"`
	Rung     int           `json:"rung"`
	Attempts int           `json:"attempts"`
	Cost     runtime.Money `json:"cost"`
	Tokens   metaTokens    `json:"tokens"`
	Plan     int           `json:"plan"`
	Cached   bool          `json:"cached"`
	// FromStore: delivered again from the store; Cost is the original.
	FromStore bool `json:"from_store"`
	// SourceLine locates a malformed source row (Record.Malformed).
	SourceLine int `json:"source_line,omitempty"`
}

type metaTokens struct {
	Prompt   int `json:"prompt"`
	Output   int `json:"output"`
	Cached   int `json:"cached"`
	Thinking int `json:"thinking"`
}

// recordError is the "error" object of a failed record.
type recordError struct {
	Step      string                 `json:"step"`
	Class     runtime.Class          `json:"class"`
	Message   string                 `json:"message"`
	Errors    []runtime.AttemptError `json:"errors"`
	LastReply string                 `json:"last_reply,omitempty"`
	Line      int                    `json:"line,omitempty"`
}

// Write encodes rec as one line and hands it to the batch.
func (s *jsonlSink) Write(_ context.Context, rec *runtime.Record) error {
	if err := s.encode(rec); err != nil {
		return writeErr(s.sink, err)
	}
	err := s.w.write(s.enc.buf)
	if cap(s.enc.buf) > 1<<20 {
		s.enc.buf = nil // one huge record passed; do not keep its memory
	}
	if err != nil {
		return writeErr(s.sink, err)
	}
	return nil
}

func (s *jsonlSink) encode(rec *runtime.Record) error {
	e := &s.enc
	e.buf = append(e.buf[:0], `{"id":`...)
	if rec.Malformed {
		e.buf = append(e.buf, "null"...) // a row that did not parse has no id
	} else {
		e.buf = jsonscan.AppendString(e.buf, rec.ID)
	}
	e.buf = append(e.buf, `,"item":`...)
	if err := e.objectLike(rec.Item, &s.itemKeys); err != nil {
		return err
	}
	for _, k := range s.stepKeys(rec) {
		e.buf = append(e.buf, ',')
		e.buf = jsonscan.AppendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.value(rec.Outputs[k]); err != nil {
			return err
		}
	}
	if rec.Failed {
		// Rare, and holds times and classes: encoding/json's job.
		e.buf = append(e.buf, `,"error":`...)
		if err := e.fallback(failureOf(rec)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, `,"_meta":`...)
	e.meta(rec)
	e.buf = append(e.buf, "}\n"...)
	return nil
}

// meta appends the "_meta" object: recordMeta's encoding, written out by
// hand because every record has one. The cost is exact dollars, rounded
// to the nano-dollar (runtime.Money): no float noise.
func (a *jsonAppender) meta(rec *runtime.Record) {
	a.buf = append(a.buf, `{"model":`...)
	a.buf = jsonscan.AppendString(a.buf, rec.Model)
	a.buf = append(a.buf, `,"rung":`...)
	a.buf = strconv.AppendInt(a.buf, int64(rec.Rung), 10)
	a.buf = append(a.buf, `,"attempts":`...)
	a.buf = strconv.AppendInt(a.buf, int64(rec.Attempts), 10)
	a.buf = append(a.buf, `,"cost":`...)
	a.buf = rec.Cost.AppendDollars(a.buf)
	u := rec.Usage
	a.buf = append(a.buf, `,"tokens":{"prompt":`...)
	a.buf = strconv.AppendInt(a.buf, int64(u.PromptTokens), 10)
	a.buf = append(a.buf, `,"output":`...)
	a.buf = strconv.AppendInt(a.buf, int64(u.OutputTokens), 10)
	a.buf = append(a.buf, `,"cached":`...)
	a.buf = strconv.AppendInt(a.buf, int64(u.CachedTokens), 10)
	a.buf = append(a.buf, `,"thinking":`...)
	a.buf = strconv.AppendInt(a.buf, int64(u.ThinkingTokens), 10)
	a.buf = append(a.buf, `},"plan":`...)
	a.buf = strconv.AppendInt(a.buf, int64(rec.Plan), 10)
	a.buf = append(a.buf, `,"cached":`...)
	a.buf = strconv.AppendBool(a.buf, rec.Cached)
	a.buf = append(a.buf, `,"from_store":`...)
	a.buf = strconv.AppendBool(a.buf, rec.FromStore)
	if rec.Malformed {
		a.buf = append(a.buf, `,"source_line":`...)
		a.buf = strconv.AppendInt(a.buf, int64(rec.SourceLine), 10)
	}
	a.buf = append(a.buf, '}')
}

// stepKeys lists the outputs of rec in pipeline order, then any that
// Record.Order leaves out, sorted, so nothing is dropped.
func (s *jsonlSink) stepKeys(rec *runtime.Record) []string {
	s.keys = s.keys[:0]
	for _, k := range rec.Order {
		if _, ok := rec.Outputs[k]; ok && !slices.Contains(s.keys, k) {
			s.keys = append(s.keys, k)
		}
	}
	if len(s.keys) == len(rec.Outputs) {
		return s.keys
	}
	n := len(s.keys)
	for k := range rec.Outputs {
		if !slices.Contains(s.keys[:n], k) {
			s.keys = append(s.keys, k)
		}
	}
	slices.Sort(s.keys[n:])
	return s.keys
}

// Close flushes the last batch and closes the file; it may be called more
// than once.
func (s *jsonlSink) Close() error {
	if err := s.w.close(); err != nil {
		return writeErr(s.sink, err)
	}
	return nil
}

// Abort closes a sink that got no record in a run that did not complete,
// leaving its file as it was before the run.
func (s *jsonlSink) Abort() error { return s.w.abort() }

func metaOf(rec *runtime.Record) *recordMeta {
	m := &recordMeta{
		Model:    rec.Model,
		Rung:     rec.Rung,
		Attempts: rec.Attempts,
		Cost:     rec.Cost,
		Tokens: metaTokens{
			Prompt:   rec.Usage.PromptTokens,
			Output:   rec.Usage.OutputTokens,
			Cached:   rec.Usage.CachedTokens,
			Thinking: rec.Usage.ThinkingTokens,
		},
		Plan:      rec.Plan,
		Cached:    rec.Cached,
		FromStore: rec.FromStore,
	}
	if rec.Malformed {
		m.SourceLine = rec.SourceLine
	}
	return m
}

func failureOf(rec *runtime.Record) *recordError {
	e := &recordError{Step: rec.Step, Errors: []runtime.AttemptError{}}
	if f := rec.Failure; f != nil {
		e.Class, e.Message, e.LastReply, e.Line = f.Class, f.Message, f.LastReply, f.Line
		if f.Errors != nil {
			e.Errors = f.Errors
		}
	}
	return e
}
