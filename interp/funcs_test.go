package interp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// testFuncs stands in for stdlib/funcs, which interp may not import: a
// file(...) that reads under the program's directory.
func testFuncs() []*Func {
	return []*Func{{
		Name:  "file",
		Types: []any{new(func(string) string)},
		Fn: func(fc *FuncContext, args ...any) (any, error) {
			p, _ := args[0].(string)
			if filepath.IsAbs(p) || strings.Contains(p, "..") {
				return nil, errors.New("path leaves the pipeline's folder")
			}
			b, err := os.ReadFile(filepath.Join(fc.Dir, p))
			if err != nil {
				return nil, errors.New("no such file")
			}
			return string(b), nil
		},
	}}
}
