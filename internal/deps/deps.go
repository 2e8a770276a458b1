//go:build tools

// Package deps pins the modules the project builds on so that every package
// can import them without editing go.mod concurrently.
package deps

import (
	_ "github.com/alecthomas/participle/v2"
	_ "github.com/expr-lang/expr"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "golang.org/x/time/rate"
	_ "google.golang.org/genai"
	_ "modernc.org/sqlite"
)
