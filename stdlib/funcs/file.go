package funcs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmpipe/llmpipe/interp"
)

// errOutside is returned for paths that would leave the pipeline's folder.
var errOutside = errors.New("path leaves the pipeline's folder")

func fileFunc() *interp.Func {
	return &interp.Func{
		Name:    "file",
		Summary: "Reads a text file next to the pipeline.",
		Description: "file(path) returns the contents of a file, relative to the pipeline file's folder. " +
			"Absolute paths and paths that leave the folder (through .. or a symbolic link) are refused, " +
			"so a pipeline can only read what sits beside it. In a cache's system the file is read once, " +
			"when the pipeline is checked.",
		Example: `system = file("handbook.md")`,
		Types:   []any{new(func(string) string)},
		Fn: func(fc *interp.FuncContext, args ...any) (any, error) {
			p, err := oneString("file", args)
			if err != nil {
				return nil, err
			}
			return readInside(dir(fc), p)
		},
	}
}

func dir(fc *interp.FuncContext) string {
	if fc == nil || fc.Dir == "" {
		return "."
	}
	return fc.Dir
}

// readInside reads rel under root, refusing anything that resolves outside.
func readInside(root, rel string) (string, error) {
	if rel == "" {
		return "", errors.New("file: empty path")
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("file %q: absolute paths are not allowed; give a path relative to the pipeline", rel)
	}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("file %q: %w", rel, errOutside)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("file %q: resolving the pipeline's folder: %w", rel, err)
	}
	full, err := filepath.EvalSymlinks(filepath.Join(realRoot, clean))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("file %q: no such file", rel)
		}
		return "", fmt.Errorf("file %q: %w", rel, err)
	}
	if r, err := filepath.Rel(realRoot, full); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("file %q: a symbolic link leads outside: %w", rel, errOutside)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return "", fmt.Errorf("file %q: %w", rel, err)
	}
	return string(b), nil
}

func oneString(name string, args []any) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s takes 1 argument, but got %d", name, len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("%s expects a string, but got %T", name, args[0])
	}
	return s, nil
}
