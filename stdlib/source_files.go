package stdlib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// maxFileSize bounds one file of a files source; a larger file is an error
// item (a prompt that large is a mistake, and reading it would take the memory).
const maxFileSize = 32 << 20

// filesSource yields one item per file matching a glob. The glob is expanded
// at open (names only); each file is read when Next reaches it.
type filesSource struct {
	src   *interp.Source
	paths []string // absolute, sorted
	index int
}

func openFiles(ctx context.Context, src *interp.Source) (*filesSource, error) {
	paths, err := expandGlob(ctx, src.Path)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		// A typo in a glob would otherwise be a silent empty run.
		return nil, fmt.Errorf("no files match %s", src.Path)
	}
	return &filesSource{src: src, paths: paths}, nil
}

// Next reads the next file. A file that is too large or cannot be read is an
// item with Err: it was matched, so it is reported, and the run goes on.
func (s *filesSource) Next(ctx context.Context) (*runtime.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.index >= len(s.paths) {
		return nil, io.EOF
	}
	p := s.paths[s.index]
	s.index++
	it := &runtime.Item{Index: s.index}
	text, err := readSmallFile(p)
	if err != nil {
		it.Err = err
		return it, nil
	}
	if !utf8.ValidString(text) {
		text, it.Repaired = strings.ToValidUTF8(text, "\uFFFD"), true
	}
	it.Data = map[string]any{"path": p, "name": filepath.Base(p), "text": text}
	return it, nil
}

func readSmallFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Read one byte past the limit instead of trusting Stat, which can lie
	// for special files and races with writers.
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("%s: larger than %d MiB", p, maxFileSize>>20)
	}
	return string(b), nil
}

// Close does nothing: files are opened and closed by Next.
func (s *filesSource) Close() error { return nil }

// Count returns the number of matched files.
func (s *filesSource) Count(context.Context) (int, error) { return len(s.paths), nil }

// expandGlob returns the regular files matching pattern, sorted. A segment
// "**" matches any number of directories (zero included); other segments use
// path.Match syntax. Only the directories under the pattern's literal prefix
// that can still match are walked.
func expandGlob(ctx context.Context, pattern string) ([]string, error) {
	pattern = filepath.ToSlash(filepath.Clean(pattern))
	segs := strings.Split(pattern, "/")
	lit := 0
	for lit < len(segs) && !hasMeta(segs[lit]) {
		lit++
	}
	if lit == len(segs) { // no meta characters: one file
		fi, err := os.Stat(pattern)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", pattern)
		}
		return []string{filepath.FromSlash(pattern)}, nil
	}
	pat := segs[lit:]
	for _, p := range pat {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("glob %s: %w", pattern, err)
		}
	}
	root := strings.Join(segs[:lit], "/")
	if root == "" {
		root = "/"
	}
	var out []string
	err := filepath.WalkDir(filepath.FromSlash(root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // no directory, no matches
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if !matchPrefix(pat, parts) {
				return fs.SkipDir
			}
			return nil
		}
		if !matchSegments(pat, parts) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 { // a link to a regular file counts
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	slices.Sort(out)
	return out, nil
}

func hasMeta(seg string) bool { return strings.ContainsAny(seg, `*?[\`) }

// matchSegments reports whether the path segments name match the pattern
// segments pat, where "**" matches zero or more segments.
func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// matchPrefix reports whether a file below the directory dir could match pat.
func matchPrefix(pat, dir []string) bool {
	for i, d := range dir {
		if i >= len(pat) {
			return false
		}
		if pat[i] == "**" {
			return true
		}
		if ok, _ := path.Match(pat[i], d); !ok {
			return false
		}
	}
	return len(dir) < len(pat)
}
