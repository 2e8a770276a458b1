// Package watch tells a long-running command that files it depends on have
// changed. It watches their directories rather than the files themselves,
// because editors that save by writing a temporary file and renaming it into
// place replace the file a per-file watch would follow. It ignores
// chmod-only events, lets a burst of events settle before looking, and
// reports a change only when some file's content differs from what it last
// reported, so one save is one change.
package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the files must be quiet before a change is
// reported: long enough to cover an editor's truncate-write-rename burst,
// short enough to feel immediate.
const DefaultDebounce = 100 * time.Millisecond

// Watcher follows a set of files (or globs). Set may be called while Run
// runs; Close releases the operating system watch.
type Watcher struct {
	fsw      *fsnotify.Watcher
	debounce time.Duration

	mu    sync.Mutex
	files map[string]string // clean absolute path or glob → content hash last reported
	dirs  map[string]bool   // directories under watch
}

// New makes a Watcher that watches nothing yet; Set says what to watch. A
// debounce of 0 means DefaultDebounce.
func New(debounce time.Duration) (*Watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("starting file watcher: %w", err)
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	return &Watcher{fsw: fsw, debounce: debounce, files: map[string]string{}, dirs: map[string]bool{}}, nil
}

// Set replaces the watched paths, as when an edited pipeline reads other
// files. Paths watched before keep their baseline, so an edit made while
// the caller was reloading is still reported; new paths take the content
// they have now as baseline: only a difference from it is a change.
//
// An error names directories that could not be watched (typically missing
// ones); every other path is watched regardless, so the caller may treat
// the error as a warning.
func (w *Watcher) Set(paths []string) error {
	files := map[string]string{}
	dirs := map[string]bool{}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		if h, ok := w.files[abs]; ok {
			files[abs] = h
		} else {
			files[abs] = contentHash(abs)
		}
		dirs[watchDir(abs)] = true
	}
	var errs []error
	for d := range dirs {
		if w.dirs[d] {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			// A missing directory only means its files cannot change yet;
			// whatever reads them will say they are missing.
			errs = append(errs, fmt.Errorf("watching %s: %w", d, err))
			delete(dirs, d)
		}
	}
	for d := range w.dirs {
		if !dirs[d] {
			_ = w.fsw.Remove(d) // it may be gone already; nothing to undo then
		}
	}
	w.files, w.dirs = files, dirs
	return errors.Join(errs...)
}

// Baseline records content as what path held when the caller read it, so
// that a save made since then is reported, even one made before the watch
// began. path must be watched (Set) already; other paths are ignored.
func (w *Watcher) Baseline(path string, content []byte) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.files[abs]; ok {
		w.files[abs] = hashBytes(content)
	}
}

// Close stops watching. Run returns once it sees the watch closed.
func (w *Watcher) Close() error { return w.fsw.Close() }

// Run calls changed, from Run's own goroutine, each time a burst of events
// on the watched files has settled and left some file's content different
// from what was last reported (or given to Baseline). It also looks once
// a debounce period after it starts, for saves made before the watch began.
// It returns nil when ctx is done or the watcher is closed.
func (w *Watcher) Run(ctx context.Context, changed func()) error {
	// Not an immediate look: a save may be half written right now.
	timer := time.NewTimer(w.debounce)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			if relevant(ev.Op) && w.matches(ev.Name) {
				timer.Reset(w.debounce)
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return fmt.Errorf("watching files: %w", err)
			}
			// Events were lost: look at the content, which is the truth.
			timer.Reset(w.debounce)
		case <-timer.C:
			if w.refresh() {
				changed()
			}
		}
	}
}

// relevant: a chmod alone (touch -m, an editor fixing permissions, a
// backup tool) never changes what a file says.
func relevant(op fsnotify.Op) bool { return op != fsnotify.Chmod && op != 0 }

// matches reports whether an event's path is one of the watched files or
// matches a watched glob. Renames into place arrive as a Create of the
// watched name, so they match too.
func (w *Watcher) matches(name string) bool {
	name = filepath.Clean(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.files[name]; ok {
		return true
	}
	for p := range w.files {
		if isGlob(p) {
			if ok, _ := filepath.Match(p, name); ok {
				return true
			}
		}
	}
	return false
}

// refresh rehashes the watched files and reports whether any changed,
// taking the new content as the baseline.
func (w *Watcher) refresh() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := false
	for p, old := range w.files {
		if h := contentHash(p); h != old {
			w.files[p] = h
			changed = true
		}
	}
	return changed
}
