// Package pubsub carries events from publishers that must never wait (the
// inspection's probers, a re-merge's blob uploads) to subscribers that may
// be slow, stuck or gone (a screen). It is the one way events leave
// inspect and repair, so no subscriber code ever runs under a
// publisher's lock. The shape follows crush's internal/pubsub broker: the
// subscriber list is read under a lock, and delivery happens outside it.
//
// Backpressure policy. Publish never blocks: it appends the event to each
// subscriber's queue and returns. It calls no subscriber code and sends
// on no channel, so a publisher may call it under its own lock, which is
// how events stay in the order of the changes they describe. One goroutine
// per subscriber delivers that subscriber's queue, in order.
//
//   - Facts (a cell, a tag, a verdict, a step) are never dropped: their
//     queue is unbounded. Their number is fixed by the work itself (one per
//     probe or step), not by how slowly the screen reads, and the screen
//     paints the grid from them: a dropped fact would leave a wrong cell.
//   - Counters (probes answered, bytes copied) carry a coalescing key: a
//     newer event with the same key replaces the undelivered older one
//     (latest wins), and moves to the end of the queue, so a counter is
//     never delivered ahead of the facts published before it. A reader
//     that never reads therefore holds at most one event per key besides
//     the facts.
package pubsub

import (
	"context"
	"sync"
)

// Broker fans events of type T out to its subscribers. The zero value is
// not usable; build one with New.
type Broker[T any] struct {
	key func(T) (string, bool)

	mu     sync.RWMutex
	subs   map[*sub[T]]struct{}
	closed bool
}

// New returns a broker. key, when not nil, names the events that coalesce
// (latest wins, see the package doc): ok false keeps an event as a fact.
func New[T any](key func(T) (k string, ok bool)) *Broker[T] {
	return &Broker[T]{key: key, subs: map[*sub[T]]struct{}{}}
}

// Publish queues v for every subscriber and returns at once. It never
// blocks on a subscriber and runs none of its code, so it is safe under
// the caller's own locks. After Close it does nothing.
func (b *Broker[T]) Publish(v T) {
	k, keyed := "", false
	if b.key != nil {
		k, keyed = b.key(v)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		s.push(v, k, keyed)
	}
}

// Subscribe returns a channel that receives every event published from now
// on, in order, from a goroutine of its own. The channel is closed after
// the last event once the broker is closed, or at once when ctx ends (what
// was still queued is then dropped). A subscriber that stops reading
// stalls only its own goroutine, never a publisher.
func (b *Broker[T]) Subscribe(ctx context.Context) <-chan T {
	s := &sub[T]{keyed: map[string]int{}, out: make(chan T)}
	s.wake = sync.NewCond(&s.mu)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(s.out)
		return s.out
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		b.remove(s)
		s.mu.Lock()
		s.stopped, s.queue = true, nil
		s.mu.Unlock()
		s.wake.Broadcast()
	})
	go func() {
		defer stop()
		s.run(ctx)
	}()
	return s.out
}

// Deliver calls fn with every event of a new subscription (see Subscribe),
// one at a time, on one goroutine, outside every lock. The returned
// channel is closed when fn has returned for the last event, after Close,
// or when ctx ends.
func (b *Broker[T]) Deliver(ctx context.Context, fn func(T)) <-chan struct{} {
	ch := b.Subscribe(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range ch {
			fn(v)
		}
	}()
	return done
}

// Stream is Deliver for a producer that ends the stream itself, as the
// inspection and a repair do: delivery runs on a context of its own, and
// end closes the broker, then waits until fn has seen every queued event
// or until ctx ends, whichever comes first, so a stuck fn never holds its
// caller past a cancel.
func (b *Broker[T]) Stream(ctx context.Context, fn func(T)) (end func()) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := b.Deliver(dctx, fn)
	return func() {
		b.Close()
		select {
		case <-done:
		case <-ctx.Done():
		}
		cancel()
	}
}

// Close ends the stream: each subscriber gets what is already queued for
// it, then its channel is closed. Publish after Close does nothing.
func (b *Broker[T]) Close() {
	b.mu.Lock()
	b.closed = true
	subs := b.subs
	b.subs = map[*sub[T]]struct{}{}
	b.mu.Unlock()
	for s := range subs {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.wake.Broadcast()
	}
}

func (b *Broker[T]) remove(s *sub[T]) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// sub is one subscriber: its queue and the goroutine that empties it.
type sub[T any] struct {
	mu   sync.Mutex
	wake *sync.Cond
	// queue holds undelivered events; an entry superseded by a newer one
	// of its key is marked dead and skipped.
	queue []entry[T]
	keyed map[string]int // key -> index in queue of its live entry
	dead  int
	// closed: no more events come; deliver the queue, then end.
	closed bool
	// stopped: the subscriber's context ended; end now.
	stopped bool
	out     chan T
}

type entry[T any] struct {
	v     T
	key   string
	keyed bool
	dead  bool
}

// push appends v; a keyed v supersedes the undelivered event of its key.
func (s *sub[T]) push(v T, k string, keyed bool) {
	s.mu.Lock()
	if s.closed || s.stopped {
		s.mu.Unlock()
		return
	}
	if keyed {
		if i, ok := s.keyed[k]; ok {
			s.queue[i].dead = true
			s.dead++
		}
		s.keyed[k] = len(s.queue)
	}
	s.queue = append(s.queue, entry[T]{v: v, key: k, keyed: keyed})
	if s.dead > 64 && s.dead > len(s.queue)/2 {
		s.compact()
	}
	s.mu.Unlock()
	s.wake.Signal()
}

// compact drops dead entries, so a reader that never reads holds the
// facts and one event per key, not every counter ever published.
func (s *sub[T]) compact() {
	live := s.queue[:0]
	clear(s.keyed)
	for _, e := range s.queue {
		if e.dead {
			continue
		}
		if e.keyed {
			s.keyed[e.key] = len(live)
		}
		live = append(live, e)
	}
	clear(s.queue[len(live):])
	s.queue, s.dead = live, 0
}

// run delivers the queue in order until the stream is closed and drained,
// or ctx ends.
func (s *sub[T]) run(ctx context.Context) {
	defer close(s.out)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed && !s.stopped {
			s.wake.Wait()
		}
		if s.stopped || len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue, s.dead = nil, 0
		clear(s.keyed)
		s.mu.Unlock()
		for _, e := range batch {
			if e.dead {
				continue
			}
			select {
			case s.out <- e.v:
			case <-ctx.Done():
				return
			}
		}
	}
}
