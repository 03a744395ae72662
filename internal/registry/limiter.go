package registry

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

type priorityKey struct{}

// WithPriority returns a context whose requests wait for a slot behind
// every queued request of a lower priority number, and ahead of every one
// of a higher number; requests of equal priority go in arrival order, and
// a context without one has priority 0. The queue stays work-conserving: a
// request never waits while a slot it fits is free.
//
// An inspection numbers its backends: without that, a slot goes to
// whatever was asked first, so every backend's first step (on the anchor's
// registry) runs before any backend's next one, and a registry that only
// serves later steps sits idle while the first works through its queue.
func WithPriority(ctx context.Context, prio int) context.Context {
	return context.WithValue(ctx, priorityKey{}, prio)
}

func priorityOf(ctx context.Context) int {
	p, _ := ctx.Value(priorityKey{}).(int)
	return p
}

// hostState is what all workers share about one registry host: who may send
// now, and what the host told us about its load.
//
// Three bounds apply to every request, each checked when it is let go:
//
//   - held < max: a request holds its slot from sending until its answer
//     is finished (body read to the end or closed), so the configured
//     concurrency is what the registry sees, streaming bodies included.
//   - waiting < limit: requests sent whose headers have not come back are
//     bounded by an adaptive limit, cut when the host throttles and grown
//     back as it answers (see answered). A body being read does not count
//     here: its server has answered already, and counting it could starve
//     the very request its reader waits for.
//   - streams < max-1: blob downloads, whose bodies are read while another
//     request (the upload they feed) is sent, never take the last slot, so
//     that upload can always get one: holding bodies cannot deadlock.
//
// And nothing is sent before notBefore, the pause a Retry-After asked for.
type hostState struct {
	max int // configured concurrency: the hard bound

	mu        sync.Mutex
	limit     float64 // adaptive bound on waiting, in [1, max]
	held      int
	waiting   int
	streams   int
	notBefore time.Time
	queue     []*waiter
	timer     *time.Timer // wakes the queue when notBefore passes
	now       func() time.Time
	// pacers learn and keep the rate a token-bucket limit grants, one per
	// class of paths (see pathClass).
	pacers map[string]*pacer

	// The current window of answers the limit is judged on: about one
	// round of the limit's worth of answers.
	winAnswers, winThrottled int
}

func newHostState(maxInFlight int, now func() time.Time) *hostState {
	return &hostState{max: maxInFlight, limit: float64(maxInFlight), now: now}
}

// waiter is one request queued for a slot; ready is closed once the slot is
// its own.
type waiter struct {
	prio   int
	stream bool
	ready  chan struct{}
	given  bool
}

// slot is a granted place in flight. answered is called when the headers
// (or an error) come back, done when the answer is finished; done is safe
// to call more than once.
type slot struct {
	h        *hostState
	stream   bool
	answered bool
	once     sync.Once
}

// acquire waits for a slot, or for ctx to end, queued by prio (lower
// first; see WithPriority). stream marks a request whose body may be read
// while its reader sends other requests (a blob GET).
func (h *hostState) acquire(ctx context.Context, stream bool, prio int) (*slot, error) {
	if h.max < 2 {
		// With one slot there is none to keep back for the upload a
		// download feeds: such a body gives its slot back with the
		// headers (see transport.wrapResponse).
		stream = false
	}
	w := &waiter{prio: prio, stream: stream, ready: make(chan struct{})}
	h.mu.Lock()
	// Behind every waiter of the same or a more urgent priority: FIFO
	// within a priority.
	i := sort.Search(len(h.queue), func(i int) bool { return h.queue[i].prio > w.prio })
	h.queue = slices.Insert(h.queue, i, w)
	h.dispatchLocked()
	h.mu.Unlock()
	select {
	case <-w.ready:
		return &slot{h: h, stream: stream}, nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	if w.given {
		h.freeLocked(stream, true)
	} else {
		for i, q := range h.queue {
			if q == w {
				h.queue = append(h.queue[:i], h.queue[i+1:]...)
				break
			}
		}
	}
	h.dispatchLocked()
	h.mu.Unlock()
	return nil, ctx.Err()
}

// fitsLocked reports whether a request may be let go now.
func (h *hostState) fitsLocked(stream bool) bool {
	if h.held >= h.max || h.waiting >= max(int(h.limit), 1) {
		return false
	}
	return !stream || h.streams < h.max-1
}

// dispatchLocked lets queued requests go, most urgent first and oldest
// first within a priority, while they fit; a
// blob download held back by its own bound does not hold back the requests
// queued behind it. While the host is paused it arms a timer instead.
func (h *hostState) dispatchLocked() {
	if len(h.queue) == 0 {
		return
	}
	if wait := h.notBefore.Sub(h.now()); wait > 0 {
		if h.timer == nil {
			h.timer = time.AfterFunc(wait, func() {
				h.mu.Lock()
				h.timer = nil
				h.dispatchLocked()
				h.mu.Unlock()
			})
		}
		return
	}
	kept := h.queue[:0]
	for _, w := range h.queue {
		if !h.fitsLocked(w.stream) {
			kept = append(kept, w)
			continue
		}
		h.held++
		h.waiting++
		if w.stream {
			h.streams++
		}
		w.given = true
		close(w.ready)
	}
	clear(h.queue[len(kept):])
	h.queue = kept
}

// freeLocked undoes a grant: the answer is finished, or never came.
func (h *hostState) freeLocked(stream, waiting bool) {
	h.held--
	if waiting {
		h.waiting--
	}
	if stream {
		h.streams--
	}
}

// answeredWith records that the headers of s's request came back, and
// whether the answer was a throttle without Retry-After, which is what
// moves the limit. (A request that failed without an answer only calls
// done.)
func (s *slot) answeredWith(throttled bool) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.answered {
		return
	}
	s.answered = true
	h.waiting--
	h.judgeLocked(throttled)
	h.dispatchLocked()
}

// done gives the slot back. A request that never reported its answer is
// counted out of waiting too.
func (s *slot) done() {
	s.once.Do(func() {
		h := s.h
		h.mu.Lock()
		h.freeLocked(s.stream, !s.answered)
		s.answered = true
		h.dispatchLocked()
		h.mu.Unlock()
	})
}

// judgeLocked moves the adaptive limit, once per window of about limit
// answers (one round trip of the host's traffic): halve it when more than
// half of the window was throttled, else add one, never past max. A host
// that throttles a steady fraction of requests below half whatever the
// load keeps its full concurrency (the throttled requests are retried after
// a jittered backoff); a host that throttles because we send too much
// throttles most of a window and is given half as many requests. The
// tolerance of half is the K=2 of client-side adaptive throttling in
// Google's SRE book ("Handling Overload"): accept up to twice as many
// refusals as answers before sending less.
func (h *hostState) judgeLocked(throttled bool) {
	h.winAnswers++
	if throttled {
		h.winThrottled++
	}
	if h.winAnswers < max(int(h.limit), 1) {
		return
	}
	if 2*h.winThrottled > h.winAnswers {
		h.limit = max(h.limit/2, 1)
	} else {
		h.limit = min(h.limit+1, float64(h.max))
	}
	h.winAnswers, h.winThrottled = 0, 0
}

// pause pushes the host's gate to at least until; never pulls it earlier.
func (h *hostState) pause(until time.Time) {
	h.mu.Lock()
	if until.After(h.notBefore) {
		// An armed timer may now fire early; it finds the gate still
		// closed and arms itself again.
		h.notBefore = until
	}
	h.mu.Unlock()
}

func (h *hostState) gate() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.notBefore
}

// currentLimit is the adaptive limit now, for tests and diagnostics.
func (h *hostState) currentLimit() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.limit
}
