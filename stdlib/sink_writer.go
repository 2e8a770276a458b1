package stdlib

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// How a sink batches its records. A record is encoded whole, then appended to
// a batch; the batch goes to the file in one write call when it passes
// flushSize, when flushAge has passed since its first byte (checked by Write
// every ageEvery records, and by a timer so a slow run still reaches the
// disk), and on Close.
//
// So the file only ever grows by whole records: a crash leaves complete lines
// (a torn last record needs the process to die inside write(2) itself, where
// the kernel may stop at a page boundary). A kill -9 loses at most the last
// flushAge of records; the store holds them, and the next run rewrites the
// whole file from it. There is no fsync: the store is the durable copy.
//
// Opening a sink touches nothing: the file is opened without truncation (so
// a sink that cannot be written fails before any output changes), and it is
// emptied only when its first record is ready. A run that stops before then
// aborts the writer, which leaves the file as it was, or removes it (and the
// directories made for it) when the open created it. A temporary file
// renamed at the end would do the same for a failed start, but would lose
// everything on kill -9 with --no-store and hide progress from a tail -f.
const (
	flushSize = 64 << 10
	flushAge  = 50 * time.Millisecond
)

// recordWriter appends whole records to a file in batches. Its methods are
// safe for concurrent use; the flusher goroutine ends in close.
type recordWriter struct {
	mu      sync.Mutex
	f       *os.File
	buf     []byte    // whole records not yet written
	first   time.Time // when buf got its first byte
	since   int       // records appended since first
	err     error     // first write error; sticky
	done    bool
	started bool     // the file was emptied for this run's records
	created []string // what open made (the file, then new directories, deepest first), for abort

	arm     chan struct{} // buf went from empty to non-empty: start the timer
	stop    chan struct{}
	stopped chan struct{}
}

// openRecordWriter opens path for writing without truncating it, making
// its directories; the first record empties it (see above).
func openRecordWriter(path string) (*recordWriter, error) {
	var created []string
	// Note the directories MkdirAll is about to make, so abort can take
	// them away again.
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil || dir == filepath.Dir(dir) {
			break
		}
		created = append(created, dir)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		created = append([]string{path}, created...)
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_WRONLY, 0o644)
	}
	if err != nil {
		removeAll(created)
		return nil, err
	}
	if st, serr := f.Stat(); serr == nil && st.IsDir() {
		f.Close()
		return nil, errors.New("is a directory")
	}
	w := &recordWriter{
		f:       f,
		created: created,
		buf:     make([]byte, 0, flushSize+flushSize/4),
		arm:     make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.flusher()
	return w, nil
}

// write appends one encoded record (ending in '\n') to the batch, flushing
// the batch when it is full or old.
func (w *recordWriter) write(rec []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("write after close")
	}
	if !w.started {
		w.start()
		if w.err != nil {
			return w.err
		}
	}
	if len(w.buf) == 0 {
		w.first = time.Now()
		w.since = 0
		select {
		case w.arm <- struct{}{}:
		default: // already armed
		}
	}
	w.buf = append(w.buf, rec...)
	// The age is checked every ageEvery records: a clock read per record
	// was 1–2 % of a fast run's CPU, and the timer flushes a batch that
	// has come of age anyway.
	w.since++
	if len(w.buf) >= flushSize || (w.since%ageEvery == 0 && time.Since(w.first) >= flushAge) {
		w.flushLocked()
	}
	return w.err
}

// ageEvery is how many records Write takes between two looks at the
// batch's age.
const ageEvery = 16

// start empties the file for this run's records. The caller holds mu.
func (w *recordWriter) start() {
	w.started = true
	// Not for a device or a pipe (/dev/stdout, a fifo): they have nothing
	// to empty, and Truncate fails on them.
	if st, err := w.f.Stat(); err == nil && st.Mode().IsRegular() {
		w.err = w.f.Truncate(0)
	}
}

// flush writes the batch now.
func (w *recordWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.err
}

// flushLocked writes the batch in one call. The caller holds mu.
func (w *recordWriter) flushLocked() {
	if len(w.buf) == 0 || w.err != nil {
		return
	}
	// os.File.Write retries short writes itself; the batch ends on a record
	// boundary, so whatever lands on disk is whole records.
	_, w.err = w.f.Write(w.buf)
	if cap(w.buf) > 4*flushSize {
		w.buf = make([]byte, 0, flushSize+flushSize/4) // one huge record passed; give its memory back
	} else {
		w.buf = w.buf[:0]
	}
}

// flusher writes a batch flushAge after its first record when no Write does.
func (w *recordWriter) flusher() {
	defer close(w.stopped)
	t := time.NewTimer(flushAge)
	t.Stop()
	for {
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-w.arm:
			t.Reset(flushAge)
		case <-t.C:
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
		}
	}
}

// close flushes, stops the flusher and closes the file. Later calls return
// nil and do nothing.
func (w *recordWriter) close() error {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return nil
	}
	w.done = true
	if !w.started {
		w.start() // a run with no records leaves an empty file
	}
	w.flushLocked()
	err := w.err
	w.mu.Unlock()

	close(w.stop)
	<-w.stopped // the flusher may be waiting on mu; it finds nothing to write
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// abort closes the writer of a run that stopped before its first record,
// leaving the file as it was before open: untouched, or gone when open
// created it. After a record, it is close.
func (w *recordWriter) abort() error {
	w.mu.Lock()
	if w.done || w.started {
		w.mu.Unlock()
		return w.close()
	}
	w.done = true
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	err := w.f.Close()
	removeAll(w.created)
	return err
}

// removeAll removes paths in order, ignoring failures (a directory that
// something else has since written into stays).
func removeAll(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}
