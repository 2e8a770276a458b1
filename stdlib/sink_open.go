package stdlib

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// OpenSink opens the sink's file, making its directories, without changing
// it: the first record empties it, and Abort (runtime.Aborter) closes it
// unchanged, so a run that stops before its first record leaves the file
// as it was. The runtime re-delivers earlier runs' records from its store,
// so emptying loses nothing: the file holds the complete output of the
// current run. Write is called from one goroutine at a time and does
// not consult ctx (it never blocks on anything but the disk, and a record the
// runtime has committed should reach the file even while shutting down).
func OpenSink(ctx context.Context, sink *interp.Sink) (runtime.Sink, error) {
	s, err := openSink(ctx, sink)
	if err != nil {
		return nil, fmt.Errorf("opening sink %q: %w", sink.Name, err)
	}
	return s, nil
}

func openSink(ctx context.Context, sink *interp.Sink) (runtime.Sink, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	open, ok := sinkOpeners[sink.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown sink kind %q", sink.Kind)
	}
	return open(ctx, sink)
}

func writeErr(sink *interp.Sink, err error) error {
	return fmt.Errorf("writing sink %q: %w", sink.Name, err)
}
