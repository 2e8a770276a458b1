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
	// Batch names the job ("batches/…") of a batch call or of an inner
	// request (Method "BATCH"); Key is an inner request's key.
	Batch string `json:"batch,omitempty"`
	Key   string `json:"key,omitempty"`
	// Status is the HTTP status sent, 0 when the connection was reset.
	Status int `json:"status"`
	// Accepted is true when the quota admitted the request; Window is the
	// fixed window index (since the server started) it was decided in.
	Accepted     bool  `json:"accepted,omitempty"`
	Window       int64 `json:"window"`
	PromptTokens int   `json:"prompt_tokens,omitempty"` // includes CachedTokens
	OutputTokens int   `json:"output_tokens,omitempty"`
	CachedTokens int   `json:"cached_tokens,omitempty"`
	// ThinkingTokens is the reply's thoughtsTokenCount (billed as output).
	ThinkingTokens int     `json:"thinking_tokens,omitempty"`
	Cache          string  `json:"cache,omitempty"`
	LatencyMS      float64 `json:"latency_ms"` // time in the handler
	// Kind labels what happened besides a plain reply: "quota:rpm",
	// "fault:503", "invalid:fence", "script", "poison", "cache_not_found",
	// "batch:create", … For a request of a job that ended without running
	// it (status 0): "batch:cancelled", "batch:failed", "batch:expired",
	// or "batch:unfinished" when the server closed first.
	Kind string          `json:"kind,omitempty"`
	Body json.RawMessage `json:"body,omitempty"` // with LogBodies
}

// logLine is one line of the log file. Each kind of line implements it:
// a request (*LogEntry) and any other kind an endpoint needs to record
// (batch jobs, say). Kinds share the file, its buffer and its flushes.
type logLine interface {
	// appendLine appends the line, one JSON object and "\n", to b.
	appendLine(b []byte) []byte
}

// logFlushEvery bounds how long a written line may sit in the buffer, so
// the file can be tailed during a run.
const logFlushEvery = 50 * time.Millisecond

// requestLog writes lines to a file through one mutex-guarded buffer,
// flushed by its own goroutine at least every logFlushEvery and on close,
// and, for tests, may keep request entries in memory. Its methods are safe
// for concurrent use; close stops the flushing goroutine.
type requestLog struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	buf   []byte
	dirty bool // lines in w not yet flushed
	keep  bool
	mem   []LogEntry
	err   error

	stopOnce sync.Once
	stop     chan struct{} // closed by close to end flushLoop
	done     chan struct{} // closed when flushLoop has returned
}

func openLog(path string, keep bool) (*requestLog, error) {
	l := &requestLog{keep: keep}
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("opening log: %w", err)
		}
		l.f, l.w = f, bufio.NewWriterSize(f, 256<<10)
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.flushLoop(l.stop, l.done)
	}
	return l, nil
}

// flushLoop flushes buffered lines every logFlushEvery until close.
func (l *requestLog) flushLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.flushLocked()
			l.mu.Unlock()
		}
	}
}

// flushLocked writes out buffered lines; l.mu must be held.
func (l *requestLog) flushLocked() {
	if !l.dirty || l.w == nil || l.err != nil {
		return
	}
	l.dirty = false
	if err := l.w.Flush(); err != nil {
		l.err = err
	}
}

func (l *requestLog) enabled() bool { return l.w != nil || l.keep }

// add logs a request, keeping it in memory too when asked to.
func (l *requestLog) add(e *LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keep {
		l.mem = append(l.mem, *e)
	}
	l.writeLocked(e)
}

// write logs a line of any kind.
func (l *requestLog) write(line logLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeLocked(line)
}

func (l *requestLog) writeLocked(line logLine) {
	if l.w == nil || l.err != nil {
		return
	}
	// Flush before a line that does not fit, so that the file only ever
	// ends in whole lines (bufio would flush the part that fits).
	l.buf = line.appendLine(l.buf[:0])
	if len(l.buf) > l.w.Available() && l.w.Buffered() > 0 {
		if err := l.w.Flush(); err != nil {
			l.err = err
			return
		}
	}
	if _, err := l.w.Write(l.buf); err != nil {
		l.err = err
	}
	l.dirty = true
}

func (l *requestLog) entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogEntry(nil), l.mem...)
}

// close stops the flushing, flushes and closes the file, reporting the
// first write error. It is safe to call more than once.
func (l *requestLog) close() error {
	if l.stop != nil {
		l.stopOnce.Do(func() { close(l.stop) })
		<-l.done
	}
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

// appendLine encodes e as a log line.
func (e *LogEntry) appendLine(b []byte) []byte { return appendLogEntry(b, e) }

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
	if e.Batch != "" {
		b = append(b, `,"batch":`...)
		b = appendString(b, e.Batch)
	}
	if e.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, e.Key)
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
	}{{"prompt_tokens", e.PromptTokens}, {"output_tokens", e.OutputTokens}, {"cached_tokens", e.CachedTokens}, {"thinking_tokens", e.ThinkingTokens}} {
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
