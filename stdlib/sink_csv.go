package stdlib

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// csvSink writes one row per record under a header, written with the first
// row (or at Close when there is none).
//
// For successes (from = step) the columns are id, then the step's output:
// one column "<step>.<field>" per top-level schema field in declaration order,
// or one column "<step>" for a text step. For failures (from = step.failed)
// they are id, step, class, message, last_reply. Item fields are left out, so
// the columns depend only on the pipeline; join on id to see the input.
// Strings are written as they are, numbers and booleans in their JSON form,
// lists and objects as compact JSON, missing values empty.
type csvSink struct {
	sink   *interp.Sink
	w      *recordWriter
	step   string
	fields []string // output fields; nil for a text step
	buf    bytes.Buffer
	cw     *csv.Writer
	row    []string
	enc    jsonAppender
	headed bool // the header is written
}

func openCSVSink(sink *interp.Sink) (*csvSink, error) {
	if sink.From == nil {
		return nil, errors.New("sink has no step to read from")
	}
	s := &csvSink{sink: sink, step: sink.From.Name}
	if out := sink.From.Output; out != nil && out.Type != nil {
		for _, f := range out.Type.Fields {
			s.fields = append(s.fields, f.Name)
		}
	}
	s.cw = csv.NewWriter(&s.buf)
	w, err := openRecordWriter(sink.Path)
	if err != nil {
		return nil, err
	}
	s.w = w
	return s, nil
}

func (s *csvSink) header() []string {
	if s.sink.Failed {
		return []string{"id", "step", "class", "message", "last_reply"}
	}
	if s.sink.From.Output == nil {
		return []string{"id", s.step}
	}
	h := []string{"id"}
	for _, f := range s.fields {
		h = append(h, s.step+"."+f)
	}
	return h
}

// Write encodes rec as one csv row (which may span lines when a value holds
// a newline; it is still written whole).
func (s *csvSink) Write(_ context.Context, rec *runtime.Record) error {
	if err := s.emitHeader(); err != nil {
		return writeErr(s.sink, err)
	}
	row, err := s.rowOf(rec)
	if err != nil {
		return writeErr(s.sink, err)
	}
	if err := s.emit(row); err != nil {
		return writeErr(s.sink, err)
	}
	return nil
}

// emitHeader writes the header once, ahead of the first row.
func (s *csvSink) emitHeader() error {
	if s.headed {
		return nil
	}
	s.headed = true
	return s.emit(s.header())
}

func (s *csvSink) emit(row []string) error {
	s.buf.Reset()
	if err := s.cw.Write(row); err != nil {
		return err
	}
	s.cw.Flush() // into buf only; the recordWriter decides when the file sees it
	if err := s.cw.Error(); err != nil {
		return err
	}
	return s.w.write(s.buf.Bytes())
}

func (s *csvSink) rowOf(rec *runtime.Record) ([]string, error) {
	s.row = append(s.row[:0], rec.ID)
	if s.sink.Failed {
		e := failureOf(rec)
		if e.Step == "" {
			e.Step = s.step
		}
		return append(s.row, e.Step, e.Class.String(), e.Message, e.LastReply), nil
	}
	out := rec.Outputs[s.step]
	if s.sink.From.Output == nil {
		v, err := s.cell(out)
		return append(s.row, v), err
	}
	obj, _ := out.(map[string]any)
	for _, f := range s.fields {
		v, err := s.cell(obj[f])
		if err != nil {
			return nil, err
		}
		s.row = append(s.row, v)
	}
	return s.row, nil
}

// cell renders one value for a csv column.
func (s *csvSink) cell(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case json.Number:
		return x.String(), nil
	}
	s.enc.buf = s.enc.buf[:0]
	if err := s.enc.value(v); err != nil {
		return "", err
	}
	return string(s.enc.buf), nil
}

// Close flushes the last batch and closes the file; it may be called more
// than once.
func (s *csvSink) Close() error {
	// Even a run with no records leaves the header.
	herr := s.emitHeader()
	if err := s.w.close(); err != nil || herr != nil {
		if err == nil {
			err = herr
		}
		return writeErr(s.sink, err)
	}
	return nil
}

// Abort closes a sink that got no record in a run that did not complete,
// leaving its file as it was before the run.
func (s *csvSink) Abort() error { return s.w.abort() }
