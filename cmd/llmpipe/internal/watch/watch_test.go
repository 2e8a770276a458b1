package watch

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

const testDebounce = 50 * time.Millisecond

// quiet is how long a test waits to be sure nothing (more) fires: several
// debounce periods.
const quiet = 300 * time.Millisecond

// started runs a Watcher on paths and returns a channel that receives one
// value per reported change. Cleanup stops it and waits for Run to return.
func started(t *testing.T, paths ...string) (*Watcher, <-chan struct{}) {
	t.Helper()
	w := newWatcher(t, paths...)
	fired := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx, func() { fired <- struct{}{} }); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return w, fired
}

func newWatcher(t *testing.T, paths ...string) *Watcher {
	t.Helper()
	w, err := New(testDebounce)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Set(paths); err != nil {
		t.Fatal(err)
	}
	return w
}

// fires counts the changes reported within quiet after the last one.
func fires(ch <-chan struct{}) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		case <-time.After(quiet):
			return n
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunReportsEachSaveOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(t *testing.T, dir, file string)
		want int
	}{
		{"write in place", func(t *testing.T, dir, file string) {
			write(t, file, "v2")
		}, 1},
		{"truncate then write, as many editors do", func(t *testing.T, dir, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
			f.WriteString("v2")
			f.Close()
		}, 1},
		{"temp file renamed into place", func(t *testing.T, dir, file string) {
			tmp := filepath.Join(dir, ".job.llmp.swp")
			write(t, tmp, "v2")
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"backup rename then new file", func(t *testing.T, dir, file string) {
			if err := os.Rename(file, file+"~"); err != nil {
				t.Fatal(err)
			}
			write(t, file, "v2")
		}, 1},
		{"burst of writes", func(t *testing.T, dir, file string) {
			for i := range 5 {
				write(t, file, "v"+string(rune('2'+i)))
				time.Sleep(10 * time.Millisecond)
			}
		}, 1},
		{"chmod only", func(t *testing.T, dir, file string) {
			if err := os.Chmod(file, 0o600); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"same content written again", func(t *testing.T, dir, file string) {
			write(t, file, "v1")
		}, 0},
		{"unrelated file in the same directory", func(t *testing.T, dir, file string) {
			write(t, filepath.Join(dir, "other.txt"), "x")
		}, 0},
		{"deleted and restored unchanged", func(t *testing.T, dir, file string) {
			os.Remove(file)
			write(t, file, "v1")
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "job.llmp")
			write(t, file, "v1")
			_, fired := started(t, file)
			tc.edit(t, dir, file)
			if got := fires(fired); got != tc.want {
				t.Errorf("reported %d changes, want %d", got, tc.want)
			}
		})
	}
}

func TestRunTwoSavesApartAreTwoChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	write(t, file, "v1")
	_, fired := started(t, file)
	write(t, file, "v2")
	if got := fires(fired); got != 1 {
		t.Fatalf("first save: %d changes, want 1", got)
	}
	write(t, file, "v3")
	if got := fires(fired); got != 1 {
		t.Fatalf("second save: %d changes, want 1", got)
	}
}

func TestSetFollowsNewFilesAndDropsOld(t *testing.T) {
	t.Parallel()
	dir, other := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	data := filepath.Join(other, "data.txt")
	write(t, file, "v1")
	write(t, data, "d1")
	w, fired := started(t, file)

	write(t, data, "d2")
	if got := fires(fired); got != 0 {
		t.Fatalf("unwatched file: %d changes, want 0", got)
	}
	if err := w.Set([]string{file, data}); err != nil {
		t.Fatal(err)
	}
	write(t, data, "d3")
	if got := fires(fired); got != 1 {
		t.Fatalf("newly watched file: %d changes, want 1", got)
	}
	if err := w.Set([]string{file}); err != nil {
		t.Fatal(err)
	}
	write(t, data, "d4")
	if got := fires(fired); got != 0 {
		t.Fatalf("dropped file: %d changes, want 0", got)
	}
	write(t, file, "v2")
	if got := fires(fired); got != 1 {
		t.Fatalf("pipeline file after Set: %d changes, want 1", got)
	}
}

func TestSetKeepsBaselineOfKnownFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	write(t, file, "v1")
	w := newWatcher(t, file)
	// An edit lands while the caller reloads; Set must not swallow it.
	write(t, file, "v2")
	if err := w.Set([]string{file}); err != nil {
		t.Fatal(err)
	}
	if !w.refresh() {
		t.Error("refresh after Set saw no change; the edit was lost")
	}
	if w.refresh() {
		t.Error("second refresh reported the same change again")
	}
}

func TestBaselineReportsSaveMadeBeforeTheWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	write(t, file, "v1")
	loaded, _ := os.ReadFile(file)
	write(t, file, "v2") // saved after the caller read it, before it watched
	w := newWatcher(t, file)
	w.Baseline(file, loaded)
	fired := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx, func() { fired <- struct{}{} }) })
	defer func() { cancel(); wg.Wait() }()
	if got := fires(fired); got != 1 {
		t.Errorf("save before the watch: %d changes, want 1", got)
	}
}

func TestBaselineOfLoadedContentIsNoChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	write(t, file, "v1")
	w, fired := started(t, file)
	w.Baseline(file, []byte("v1"))
	w.Baseline(filepath.Join(dir, "unwatched"), []byte("x")) // ignored
	if got := fires(fired); got != 0 {
		t.Errorf("%d changes, want 0", got)
	}
}

func TestGlobWatchesMatches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.md"), "a")
	_, fired := started(t, filepath.Join(dir, "*.md"))
	write(t, filepath.Join(dir, "notes.txt"), "x")
	if got := fires(fired); got != 0 {
		t.Fatalf("non-matching file: %d changes, want 0", got)
	}
	write(t, filepath.Join(dir, "b.md"), "b")
	if got := fires(fired); got != 1 {
		t.Fatalf("new matching file: %d changes, want 1", got)
	}
}

func TestSetWarnsOfMissingDirectoryAndWatchesTheRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "job.llmp")
	write(t, file, "v1")
	w, err := New(testDebounce)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Set([]string{file, filepath.Join(dir, "nope", "data.txt")}); err == nil {
		t.Fatal("Set with a missing directory returned no error")
	}
	fired := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx, func() { fired <- struct{}{} }) })
	defer func() { cancel(); wg.Wait() }()
	write(t, file, "v2")
	if got := fires(fired); got != 1 {
		t.Errorf("watched file beside a missing one: %d changes, want 1", got)
	}
}

func TestRelevant(t *testing.T) {
	cases := []struct {
		op   fsnotify.Op
		want bool
	}{
		{fsnotify.Chmod, false},
		{0, false},
		{fsnotify.Write, true},
		{fsnotify.Create, true},
		{fsnotify.Rename, true},
		{fsnotify.Remove, true},
		{fsnotify.Write | fsnotify.Chmod, true},
	}
	for _, tc := range cases {
		if got := relevant(tc.op); got != tc.want {
			t.Errorf("relevant(%v) = %v, want %v", tc.op, got, tc.want)
		}
	}
}

func TestMatches(t *testing.T) {
	dir := t.TempDir()
	w, err := New(testDebounce)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// docs/ does not exist: Set warns, but the glob still matches names.
	_ = w.Set([]string{filepath.Join(dir, "job.llmp"), filepath.Join(dir, "docs", "*.md")})
	cases := []struct {
		name string
		want bool
	}{
		{filepath.Join(dir, "job.llmp"), true},
		{filepath.Join(dir, ".", "job.llmp"), true},
		{filepath.Join(dir, "job.llmp.swp"), false},
		{filepath.Join(dir, "other.llmp"), false},
		{filepath.Join(dir, "docs", "a.md"), true},
		{filepath.Join(dir, "docs", "a.txt"), false},
		{filepath.Join(dir, "a.md"), false},
	}
	for _, tc := range cases {
		if got := w.matches(tc.name); got != tc.want {
			t.Errorf("matches(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWatchDir(t *testing.T) {
	cases := []struct{ path, want string }{
		{"/a/b/job.llmp", "/a/b"},
		{"/a/b/*.md", "/a/b"},
		{"/a/*/x.md", "/a"},
		{"/a/b[12]/c/*.txt", "/a"},
	}
	for _, tc := range cases {
		if got := watchDir(filepath.FromSlash(tc.path)); got != filepath.FromSlash(tc.want) {
			t.Errorf("watchDir(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
