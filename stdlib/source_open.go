package stdlib

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// OpenSource opens src for reading. The returned Source is used from one
// goroutine; every kind also implements runtime.Counter, which opens its own
// handle and so may run beside Next.
func OpenSource(ctx context.Context, src *interp.Source) (runtime.Source, error) {
	s, err := openSource(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("opening source %q: %w", src.Name, err)
	}
	return s, nil
}

func openSource(ctx context.Context, src *interp.Source) (runtime.Source, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	open, ok := sourceOpeners[src.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown source kind %q", src.Kind)
	}
	return open(ctx, src)
}

// nextErr wraps an error that ends a source part-way.
func nextErr(src *interp.Source, err error) error {
	return fmt.Errorf("reading source %q: %w", src.Name, err)
}

// countErr wraps an error of Count.
func countErr(src *interp.Source, err error) error {
	return fmt.Errorf("counting source %q: %w", src.Name, err)
}
