package store

import "github.com/llmpipe/llmpipe/runtime"

var _ runtime.Store = (*Store)(nil)
