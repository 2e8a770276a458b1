package main

import (
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// TestProgressLineShowsWorkers: the progress line shows the pool's
// current size, which workers = auto changes during the run (issue 18).
func TestProgressLineShowsWorkers(t *testing.T) {
	s := runtime.Stats{Total: 100, Done: 40, Succeeded: 40, Elapsed: 2 * time.Second, Workers: 56}
	if line := progressLine(s); !strings.Contains(line, "  workers 56") {
		t.Errorf("progress line %q does not show workers 56", line)
	}
	s.Workers = 0 // no runner behind the stats: say nothing
	if line := progressLine(s); strings.Contains(line, "workers") {
		t.Errorf("progress line %q shows workers without a pool", line)
	}
}
