// Package eventlog writes a run's event stream to a file as JSON lines,
// and reads such a file back.
//
// A reader may tail the file while the run writes it, and a run may die at
// any moment (kill -9), so the file only ever grows by whole lines: each
// event is encoded whole and appended to a batch, and the batch goes to the
// file in one write call at most FlushEvery after its first event (a timer
// writes it when no event does), when it passes 64 KiB, and on Close. A
// kill -9 loses at most the last FlushEvery of events. A torn last line
// needs the process to die inside write(2) itself; Read skips one.
//
// Like a sink, the file is not emptied by Open but by the first event, so a
// run that cannot start leaves an earlier run's log as it was.
package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// FlushEvery bounds how long an event waits in memory before it is written.
const FlushEvery = 100 * time.Millisecond

const flushSize = 64 << 10

// Writer is a runtime.Observer that appends each event to a file as one
// JSON line. OnEvent is safe for concurrent use and never blocks on the
// disk for more than one batch write; Close ends its flusher goroutine.
type Writer struct {
	mu      sync.Mutex
	f       *os.File
	created bool // Open created the file: Close removes it if no event came
	started bool // the file was emptied for this run's events
	buf     []byte
	first   time.Time // when buf got its first byte
	err     error     // first write error; sticky, reported by Close
	done    bool

	arm     chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// Open opens path for the event log without changing it; the first event
// empties it.
func Open(path string) (*Writer, error) {
	created := true
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_WRONLY, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("opening event log: %w", err)
	}
	w := &Writer{
		f: f, created: created,
		buf:     make([]byte, 0, flushSize+flushSize/4),
		arm:     make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.flusher()
	return w, nil
}

// OnEvent appends e as one line.
func (w *Writer) OnEvent(e runtime.Event) {
	line, err := json.Marshal(e)
	if err != nil {
		return // an Event always encodes; nothing sensible to do otherwise
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.err != nil {
		return
	}
	if !w.started {
		w.started = true
		if st, err := w.f.Stat(); err == nil && st.Mode().IsRegular() {
			if w.err = w.f.Truncate(0); w.err != nil {
				return
			}
		}
	}
	if len(w.buf) == 0 {
		w.first = time.Now()
		select {
		case w.arm <- struct{}{}:
		default:
		}
	}
	w.buf = append(w.buf, line...)
	w.buf = append(w.buf, '\n')
	if len(w.buf) >= flushSize || time.Since(w.first) >= FlushEvery {
		w.flushLocked()
	}
}

// flushLocked writes the batch, whole lines only, in one call.
func (w *Writer) flushLocked() {
	if len(w.buf) == 0 || w.err != nil {
		return
	}
	_, w.err = w.f.Write(w.buf)
	w.buf = w.buf[:0]
}

func (w *Writer) flusher() {
	defer close(w.stopped)
	t := time.NewTimer(FlushEvery)
	t.Stop()
	for {
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-w.arm:
			t.Reset(FlushEvery)
		case <-t.C:
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
		}
	}
}

// Close writes what is left and closes the file, returning the first write
// error. A log that got no event is left as it was before Open (removed if
// Open created it). Later calls return nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return nil
	}
	w.done = true
	w.flushLocked()
	err, started := w.err, w.started
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if !started && w.created {
		_ = os.Remove(w.f.Name())
	}
	if err != nil {
		return fmt.Errorf("writing event log: %w", err)
	}
	return nil
}

// Read calls fn with each event of an event log, in order. A last line
// without its newline is torn (the writer died inside a write) and is
// skipped; any other line that is not an event is an error naming it.
func Read(r io.Reader, fn func(runtime.Event) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return nil // a torn last line (or none)
		}
		if err != nil {
			return fmt.Errorf("reading event log: %w", err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e runtime.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("reading event log: line %d: %w", n, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}
