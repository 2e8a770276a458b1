package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// LogEntry is one request as the simulator saw it: the ground truth a
// benchmark reports from. The log file holds one JSON object per line.
type LogEntry struct {
	// Time is when the request arrived; for a generate call, when the
	// quota decided it (microseconds later), so that accepted entries are
	// in admission order per model.
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Model  string    `json:"model,omitempty"`
	Item   string    `json:"item,omitempty"`
	Call   int       `json:"call,omitempty"` // n-th generate call for (item, model)
	// Status is the HTTP status sent, 0 when the connection was reset.
	Status int `json:"status"`
	// Accepted is true when the quota admitted the request; Window is the
	// fixed window index (since the server started) it was decided in.
	Accepted     bool    `json:"accepted,omitempty"`
	Window       int64   `json:"window"`
	PromptTokens int     `json:"prompt_tokens,omitempty"` // includes CachedTokens
	OutputTokens int     `json:"output_tokens,omitempty"`
	CachedTokens int     `json:"cached_tokens,omitempty"`
	Cache        string  `json:"cache,omitempty"`
	LatencyMS    float64 `json:"latency_ms"` // time in the handler
	// Kind labels what happened besides a plain reply: "quota:rpm",
	// "fault:503", "invalid:fence", "script", "poison", "cache_not_found", …
	Kind string          `json:"kind,omitempty"`
	Body json.RawMessage `json:"body,omitempty"` // with LogBodies
}

// requestLog buffers entries to a file through one mutex-guarded writer
// and, for tests, may keep them in memory.
type requestLog struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	keep bool
	mem  []LogEntry
	err  error
}

func openLog(path string, keep bool) (*requestLog, error) {
	l := &requestLog{keep: keep}
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("opening log: %w", err)
		}
		l.f, l.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	return l, nil
}

func (l *requestLog) enabled() bool { return l.w != nil || l.keep }

func (l *requestLog) add(e *LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keep {
		l.mem = append(l.mem, *e)
	}
	if l.w == nil || l.err != nil {
		return
	}
	l.buf = appendLogEntry(l.buf[:0], e)
	if _, err := l.w.Write(l.buf); err != nil {
		l.err = err
	}
}

func (l *requestLog) entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogEntry(nil), l.mem...)
}

// close flushes and closes the file, reporting the first write error.
func (l *requestLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	err := l.err
	if ferr := l.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.w = nil
	if err != nil {
		return fmt.Errorf("writing log: %w", err)
	}
	return nil
}

// appendLogEntry encodes e by hand; it runs once per request.
func appendLogEntry(b []byte, e *LogEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","method":`...)
	b = appendString(b, e.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, e.Path)
	if e.Model != "" {
		b = append(b, `,"model":`...)
		b = appendString(b, e.Model)
	}
	if e.Item != "" {
		b = append(b, `,"item":`...)
		b = appendString(b, e.Item)
	}
	if e.Call != 0 {
		b = append(b, `,"call":`...)
		b = strconv.AppendInt(b, int64(e.Call), 10)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	if e.Accepted {
		b = append(b, `,"accepted":true`...)
	}
	b = append(b, `,"window":`...)
	b = strconv.AppendInt(b, e.Window, 10)
	for _, f := range [...]struct {
		k string
		v int
	}{{"prompt_tokens", e.PromptTokens}, {"output_tokens", e.OutputTokens}, {"cached_tokens", e.CachedTokens}} {
		if f.v != 0 {
			b = append(b, `,"`...)
			b = append(b, f.k...)
			b = append(b, `":`...)
			b = strconv.AppendInt(b, int64(f.v), 10)
		}
	}
	if e.Cache != "" {
		b = append(b, `,"cache":`...)
		b = appendString(b, e.Cache)
	}
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, e.LatencyMS, 'f', 3, 64)
	if e.Kind != "" {
		b = append(b, `,"kind":`...)
		b = appendString(b, e.Kind)
	}
	if len(e.Body) > 0 {
		b = append(b, `,"body":`...)
		b = append(b, e.Body...)
	}
	return append(b, "}\n"...)
}
