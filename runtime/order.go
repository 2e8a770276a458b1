package runtime

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"

	"github.com/llmpipe/llmpipe/interp"
)

// Source order for sinks with order = "source".
//
// Records reach sinks as their items finish, which with many calls in
// flight is not the order of the source. A sink with order = "source"
// holds a record back until every item read before it from the same source
// is done: written, failed, skipped, or dropped by a stopping run. Each
// item admitted from such a source gets a sequence number and a count of
// the records of it still moving through the stages (one per stage it was
// sent to; a step that passes it on adds one per next stage); when the
// count falls to zero the item is done, and the low watermark — the
// lowest sequence number not done — may advance, releasing held records.
//
// The buffer is bounded by admission: no item is read from the source
// while orderWindow items are admitted beyond the watermark. A slow item
// at the head (retrying with backoff, say) therefore holds back at most
// orderWindow finished records per ordered sink, and while it does, no new
// item starts. The head item is always admitted and being worked on, so
// the window never deadlocks.

// orderWindow bounds the records an ordered sink holds back, and so its
// memory: at most this many records (each the item, its outputs and its
// meta, as a sink would write it).
const orderWindow = 10000

// sourceOrder numbers one source's items and tracks which are done.
type sourceOrder struct {
	mu      sync.Mutex
	next    int64          // the number the next admitted item gets
	low     int64          // the lowest number not done; all below are done
	done    map[int64]bool // done numbers above low
	changed chan struct{}  // closed (and replaced) when low advances
	window  int64

	sinks []*lockedSink // the ordered sinks of this source's lineage
	flush func()        // releases held records after low advances
}

func newSourceOrder() *sourceOrder {
	return &sourceOrder{done: map[int64]bool{}, changed: make(chan struct{}), window: orderWindow}
}

// itemTrack counts the records of one admitted item still in the stages.
type itemTrack struct {
	n   atomic.Int32
	seq int64
	ord *sourceOrder
}

// admit waits until the window has room (false: the run is stopping), then
// numbers the next item with n records about to be sent on.
func (o *sourceOrder) wait(ctx context.Context, stop <-chan struct{}) bool {
	for {
		o.mu.Lock()
		if o.next-o.low < o.window {
			o.mu.Unlock()
			return true
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// admit numbers the next item, whose n records are about to go to stages.
func (o *sourceOrder) admit(n int) *itemTrack {
	o.mu.Lock()
	t := &itemTrack{seq: o.next, ord: o}
	o.next++
	o.mu.Unlock()
	t.n.Store(int32(n))
	return t
}

// watermark is the lowest number not done.
func (o *sourceOrder) watermark() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.low
}

// finish marks seq done, advances the watermark past every done number,
// and releases what the ordered sinks can now write.
func (o *sourceOrder) finish(seq int64) {
	o.mu.Lock()
	o.done[seq] = true
	advanced := false
	for o.done[o.low] {
		delete(o.done, o.low)
		o.low++
		advanced = true
	}
	if advanced {
		close(o.changed)
		o.changed = make(chan struct{})
	}
	o.mu.Unlock()
	if advanced && o.flush != nil {
		o.flush()
	}
}

// add counts d more records of the item in the stages; reaching zero
// finishes it.
func (t *itemTrack) add(d int32) {
	if t == nil {
		return
	}
	if t.n.Add(d) == 0 {
		t.ord.finish(t.seq)
	}
}

// release is add(-1): one record of the item is done with its stage.
func (t *itemTrack) release() { t.add(-1) }

// rootSource is the source a step's records come from.
func rootSource(s *interp.Step) *interp.Source {
	for s != nil && s.FromStep != nil {
		s = s.FromStep
	}
	if s == nil {
		return nil
	}
	return s.FromSource
}

// heldRecords is a min-heap of records by sequence number.
type heldRecords []*Record

func (h heldRecords) Len() int           { return len(h) }
func (h heldRecords) Less(i, j int) bool { return h[i].trk.seq < h[j].trk.seq }
func (h heldRecords) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldRecords) Push(x any)        { *h = append(*h, x.(*Record)) }
func (h *heldRecords) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}

// writeHeld writes, in order, the held records the watermark releases (all
// of them when all is set, at the end of a run). The caller holds ls.mu.
func (ls *lockedSink) writeHeld(ctx context.Context, all bool) error {
	low := ls.ord.watermark()
	for len(ls.held) > 0 && (all || ls.held[0].trk.seq <= low) {
		rec := heap.Pop(&ls.held).(*Record)
		ls.written = true
		if err := ls.s.Write(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}
