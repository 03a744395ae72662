package repair

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-skynet/remerge/internal/pubsub"
)

// emit queues e for fn; it never blocks and runs none of fn's code, so it
// is safe inside an upload's Read and under byteProgress's lock.
func (o options) emit(e Event) {
	if o.pub != nil {
		o.pub.Publish(e)
	}
}

// bytesKey coalesces the byte counts of one leg: the newest is the truth.
func bytesKey(e Event) (string, bool) {
	b, ok := e.(BytesEvent)
	return b.Leg, ok
}

// startEvents starts delivering to WithEvents' fn and returns what ends
// the stream: fn sees every queued event, and end waits for that unless
// ctx ends first (a stuck fn never holds Execute past a cancel).
func (o *options) startEvents(ctx context.Context) (end func()) {
	if o.events == nil {
		return func() {}
	}
	o.pub = pubsub.New(bytesKey)
	return o.pub.Stream(ctx, o.events)
}

// steps numbers the steps for StepEvents.
type steps struct {
	o          options
	index, max int
}

func (s *steps) next(ctx context.Context, format string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cancelled before %q: %w", fmt.Sprintf(format, args...), err)
	}
	s.index++
	s.o.emit(StepEvent{Index: s.index, Total: s.max, Text: fmt.Sprintf(format, args...)})
	return nil
}

// byteProgress turns byte counts into BytesEvents, at most one per
// progressStep bytes, so a UI is not flooded. add runs inside an upload's
// Read; emitting there only queues the event (options.emit), so the
// upload never waits for a screen.
type byteProgress struct {
	mu        sync.Mutex
	o         options
	leg       string
	total     int64
	done      int64
	lastEvent int64
}

const progressStep = 256 << 10

func (b *byteProgress) add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.done-b.lastEvent >= progressStep || b.done < b.lastEvent {
		b.lastEvent = b.done
		b.o.emit(BytesEvent{Leg: b.leg, Done: b.done, Total: b.total})
	}
}

func (b *byteProgress) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done != b.lastEvent {
		b.lastEvent = b.done
		b.o.emit(BytesEvent{Leg: b.leg, Done: b.done, Total: b.total})
	}
}
