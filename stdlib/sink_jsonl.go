package stdlib

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

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
	buf  bytes.Buffer
	enc  *json.Encoder
	keys []string
}

func openJSONLSink(sink *interp.Sink) (*jsonlSink, error) {
	w, err := createRecordWriter(sink.Path)
	if err != nil {
		return nil, err
	}
	s := &jsonlSink{sink: sink, w: w}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false) // model text is full of <, > and &; keep it readable
	return s, nil
}

// recordMeta is the "_meta" object of a record.
type recordMeta struct {
	Model    string     `json:"model"`
	Rung     int        `json:"rung"`
	Attempts int        `json:"attempts"`
	Cost     float64    `json:"cost"`
	Tokens   metaTokens `json:"tokens"`
	Plan     int        `json:"plan"`
	Cached   bool       `json:"cached"`
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
	if err := s.w.write(s.buf.Bytes()); err != nil {
		return writeErr(s.sink, err)
	}
	return nil
}

func (s *jsonlSink) encode(rec *runtime.Record) error {
	s.buf.Reset()
	s.buf.WriteString(`{"id":`)
	if err := s.value(rec.ID); err != nil {
		return err
	}
	s.buf.WriteString(`,"item":`)
	if err := s.value(rec.Item); err != nil {
		return err
	}
	for _, k := range s.stepKeys(rec) {
		s.buf.WriteByte(',')
		if err := s.value(k); err != nil {
			return err
		}
		s.buf.WriteByte(':')
		if err := s.value(rec.Outputs[k]); err != nil {
			return err
		}
	}
	if rec.Failed {
		s.buf.WriteString(`,"error":`)
		if err := s.value(failureOf(rec)); err != nil {
			return err
		}
	}
	s.buf.WriteString(`,"_meta":`)
	if err := s.value(metaOf(rec)); err != nil {
		return err
	}
	s.buf.WriteString("}\n")
	return nil
}

// value appends v as compact JSON (the Encoder's newline dropped).
func (s *jsonlSink) value(v any) error {
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	s.buf.Truncate(s.buf.Len() - 1)
	return nil
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

func metaOf(rec *runtime.Record) *recordMeta {
	return &recordMeta{
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
		Plan:   rec.Plan,
		Cached: rec.Cached,
	}
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
