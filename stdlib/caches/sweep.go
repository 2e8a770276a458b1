package caches

import (
	"context"
	"errors"
	"fmt"

	"github.com/llmpipe/llmpipe/runtime"
)

// Sweep deletes caches that an earlier, crashed run recorded but never
// deleted, and returns how many it deleted. Call it before a run starts. A
// cache it cannot delete keeps its record for the next start; the error
// names every such cache.
func Sweep(ctx context.Context, p runtime.CacheProvider, s runtime.Store) (int, error) {
	recs, err := s.Caches(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing leftover caches: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range recs {
		dctx, cancel := context.WithTimeout(ctx, deleteTimeout)
		err := p.DeleteCache(dctx, r.Name)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting leftover cache %s: %w", r.Name, err))
			continue
		}
		if err := s.ForgetCache(ctx, r.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
