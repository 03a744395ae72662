package pubsub

import (
	"context"
	"slices"
	"sync"
	"testing"
)

type ev struct {
	fact    int    // a numbered fact when counter is ""
	counter string // a coalescing counter's name
	n       int    // the counter's value
}

func evKey(e ev) (string, bool) { return e.counter, e.counter != "" }

func collect(ch <-chan ev) []ev {
	var out []ev
	for e := range ch {
		out = append(out, e)
	}
	return out
}

// Facts arrive all and in order; a counter arrives with its latest value,
// after the facts published before it.
func TestOrderAndCoalescing(t *testing.T) {
	t.Parallel()
	b := New(evKey)
	ch := b.Subscribe(context.Background())
	// Nobody reads while these are published: the counters coalesce.
	for i := range 1000 {
		b.Publish(ev{fact: i})
		b.Publish(ev{counter: "probes", n: i + 1})
	}
	b.Close()
	got := collect(ch)
	var facts []int
	counters := 0
	for _, e := range got {
		if e.counter == "" {
			facts = append(facts, e.fact)
			continue
		}
		counters++
		// Counter n was published after fact n-1: it is never delivered
		// ahead of it.
		if len(facts) < e.n {
			t.Errorf("counter %d delivered after only %d facts", e.n, len(facts))
		}
	}
	// The delivering goroutine takes one batch before the reader starts
	// and blocks on it; everything else waits in one queue, where the
	// counters coalesce.
	if counters > 2 {
		t.Errorf("%d counters delivered, want at most 2 (superseded ones dropped)", counters)
	}
	if len(facts) != 1000 || !slices.IsSorted(facts) {
		t.Fatalf("got %d facts (sorted %v), want 1000 in order", len(facts), slices.IsSorted(facts))
	}
	if last := got[len(got)-1]; last.counter != "probes" || last.n != 1000 {
		t.Errorf("last event %+v, want the counter at 1000", last)
	}
}

// A subscriber that never reads costs the publisher nothing but memory for
// the facts and one counter: Publish returns, and the queue stays small.
func TestNeverReadingSubscriberNeverBlocks(t *testing.T) {
	t.Parallel()
	b := New(evKey)
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx) // never read
	for i := range 100000 {
		b.Publish(ev{counter: "bytes", n: i})
	}
	b.Publish(ev{fact: 1})
	var s *sub[ev]
	b.mu.RLock()
	for x := range b.subs {
		s = x
	}
	b.mu.RUnlock()
	s.mu.Lock()
	live := len(s.queue) - s.dead
	size := len(s.queue)
	s.mu.Unlock()
	if live > 3 || size > 200 {
		t.Errorf("queue holds %d entries (%d live) after 100000 counters and a fact; want the fact and the newest counter", size, live)
	}
	cancel()
	for range ch { // closed once the context ends
	}
}

// A subscriber may publish from its own callback (re-entry) without a
// deadlock, since delivery runs outside every lock of the broker.
func TestDeliverReentrant(t *testing.T) {
	t.Parallel()
	b := New[int](nil)
	var mu sync.Mutex
	var got []int
	done := b.Deliver(context.Background(), func(v int) {
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
		if v < 5 {
			b.Publish(v + 1)
		} else {
			b.Close()
		}
	})
	b.Publish(1)
	<-done
	if !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Errorf("delivered %v, want 1..5", got)
	}
}

// After Close, Subscribe gets a closed channel and Publish is a no-op; a
// cancelled subscription ends its channel.
func TestCloseAndCancel(t *testing.T) {
	t.Parallel()
	b := New[int](nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx)
	b.Publish(1)
	cancel()
	for range ch {
	}
	b.Close()
	b.Publish(2)
	if _, ok := <-b.Subscribe(context.Background()); ok {
		t.Error("a subscription after Close received an event")
	}
}
