package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer learns the rate a token-bucket limit grants (nginx limit_req, as
// quay.io fronts its API with) and spaces requests to it, shared by every
// worker on one host and class of path. Probing such a limit with bursts
// gets a 429 for every request past the rate; pacing at the rate gets
// almost none.
//
// How it learns: once the bucket is empty, it grants exactly its rate, so
// the answers that came back between two refusals of one episode of
// refusals, over the time between them, are the rate. The pacer then sends
// a little under it, and a little faster after a quiet while, so a low
// estimate is corrected by the next refusals.
//
// Not every throttle is a token bucket: one that refuses a fixed share of
// requests whatever the rate keeps refusing that share at any pace. When
// the refusals do not stop once paced, the pacer lets go (the host's
// adaptive concurrency limit handles that kind) and does not try again for
// a while.
type pacer struct {
	now func() time.Time

	mu  sync.Mutex
	lim *rate.Limiter // rate.Inf while no bucket is learned
	// horizon is the latest send time given out; from is the earliest a
	// fresh limiter's first place may be.
	horizon, from time.Time
	// The current episode of refusals: from its first refusal t0 to its
	// latest last, and the answers granted since t0.
	t0, last time.Time
	granted  int
	// Judging the pace: answers and refusals to requests sent since it
	// was set (changed), and when the last refusal came.
	changed       time.Time
	winN, winT    int
	quiet         time.Time
	notBucketTill time.Time
	// lowered: the pace was refused too often once and was lowered to
	// what the server granted under it; a second such judgement lets go.
	lowered bool
	// first is the pace first learnt in this run of pacing; refinements
	// within an episode never take it below half of that.
	first float64
	// A probe tries a faster pace after probeAfter without refusals; a
	// refusal to it goes back to good, the last quiet pace.
	probing    bool
	good       float64
	probeAfter time.Duration
	step       float64
	// moved is closed when the pace is let go, so requests waiting on a
	// place of the old pace go at once instead of sleeping out what a
	// slower pace gave out.
	moved chan struct{}
}

// Tuning of the pacer; see pacer.
const (
	// An episode ends when no refusal came for episodeGap.
	episodeGap = 2 * time.Second
	// A rate is told from an episode at least minSpan long with at least
	// minGranted answers granted in it.
	minSpan    = 250 * time.Millisecond
	minGranted = 5
	// paceMargin: send this share of the learned rate, since requests
	// reach the server with jitter.
	paceMargin = 0.97
	// After quietProbe with no refusal, the pace grows by probeStep, and
	// each probe that goes unrefused doubles the step's growth, up to
	// maxProbeStep; a refused probe goes back to the last quiet pace,
	// starts the steps again, and doubles the quiet wanted, up to
	// maxProbeAfter.
	quietProbe    = time.Second
	maxProbeAfter = time.Minute
	probeStep     = 1.02
	maxProbeStep  = 1.32
	// judgeWindow answers to paced requests decide whether the refusals
	// stopped: a share of notBucketShare or more means not a bucket, and
	// no pacing for notBucketFor.
	judgeWindow    = 40
	notBucketShare = 0.2
	notBucketFor   = 30 * time.Second
	// minPace is the slowest pace ever set, in requests a second.
	minPace = 1.0
)

func newPacer(now func() time.Time) *pacer {
	return &pacer{now: now, lim: rate.NewLimiter(rate.Inf, 1), probeAfter: quietProbe, step: probeStep, moved: make(chan struct{})}
}

// wait holds a request until the pace lets it go (at once while unpaced).
// It returns the send time the answer is to be judged by.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	for {
		now := p.now()
		r, moved := p.reserveMoved(now)
		d := r.DelayFrom(now)
		if d <= 0 {
			return now, ctx.Err()
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			r.CancelAt(p.now())
			return time.Time{}, ctx.Err()
		case <-t.C:
			return now.Add(d), nil
		case <-moved:
			t.Stop()
			r.CancelAt(p.now())
		}
	}
}

// reserveMoved is reserve, with the channel closed when this pace changes.
func (p *pacer) reserveMoved(now time.Time) (*rate.Reservation, <-chan struct{}) {
	p.mu.Lock()
	moved := p.moved
	p.mu.Unlock()
	return p.reserve(now), moved
}

// reserve takes the next place in the pace, as of now.
func (p *pacer) reserve(now time.Time) *rate.Reservation {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := now
	if p.from.After(at) {
		at = p.from
	}
	r := p.lim.ReserveN(at, 1)
	if t := at.Add(r.DelayFrom(at)); t.After(p.horizon) {
		p.horizon = t
	}
	return r
}

// answered records the answer to a request sent at sent: refused by a
// throttle without Retry-After, or not.
func (p *pacer) answered(sent time.Time, refused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	paced := p.lim.Limit() != rate.Inf
	if paced && !sent.Before(p.changed) {
		p.judgeLocked(now, refused)
	}
	if !refused {
		if !p.t0.IsZero() && now.Sub(p.last) <= episodeGap {
			p.granted++
		}
		if paced && now.Sub(p.quiet) >= p.probeAfter && now.Sub(p.changed) >= p.probeAfter {
			// The last probe (if any) went unrefused: the next one is a
			// bigger step, so a low estimate is soon made good.
			if p.probing {
				p.step = min(1+2*(p.step-1), maxProbeStep)
			}
			p.good = float64(p.lim.Limit())
			p.setLocked(now, p.good*p.step)
			p.probing = true
		}
		return
	}
	p.quiet = now
	if now.Before(p.notBucketTill) {
		return
	}
	if p.probing && !sent.Before(p.changed) {
		// The faster pace was too fast: back to the one that was quiet,
		// and wait longer before the next try.
		p.setLocked(now, p.good)
		p.probeAfter = min(2*p.probeAfter, maxProbeAfter)
		p.step = probeStep
		p.t0 = time.Time{}
		return
	}
	if p.t0.IsZero() || now.Sub(p.last) > episodeGap {
		p.t0, p.last, p.granted = now, now, 0
		return
	}
	p.last = now
	span := now.Sub(p.t0)
	if span < minSpan || p.granted < minGranted {
		return
	}
	est := float64(p.granted) / span.Seconds() * paceMargin
	switch {
	case !paced:
		p.setLocked(now, est)
		p.first = est
		p.probeAfter, p.step = quietProbe, probeStep
	case est < float64(p.lim.Limit()) && est >= p.first/2:
		// A throttle that refuses a share of what it is sent would drag
		// an estimate made this way down at every refusal (it grants a
		// share of the pace): no lower than half the first estimate, and
		// the judgement lets go of it.
		// Refined within the episode: the pace is still judged from
		// when it was set, or lowering it at each refusal would keep a
		// throttle that is no bucket from ever being judged one.
		changed, n, t := p.changed, p.winN, p.winT
		p.setLocked(now, est)
		p.changed, p.winN, p.winT = changed, n, t
	}
}

// judgeLocked lets go of the pace when refusals did not stop under it.
func (p *pacer) judgeLocked(now time.Time, refused bool) {
	p.winN++
	if refused {
		p.winT++
	}
	if p.winN < judgeWindow {
		return
	}
	if float64(p.winT) >= notBucketShare*float64(p.winN) {
		// An estimate told from a short episode can be high (answers
		// reach a busy client in clumps): a bucket grants its rate
		// whatever is sent, so first pace to what was granted under this
		// pace. A throttle that refuses a share at any rate is refused as
		// often at that pace too, and is let go at the next judgement.
		// Never below half the pace: a bucket's rate is not that far off
		// the estimate, and a slow window must not starve every request.
		cur := float64(p.lim.Limit())
		granted := max(float64(p.winN-p.winT)/now.Sub(p.changed).Seconds()*paceMargin, cur/2)
		if !p.lowered && granted < cur {
			p.setLocked(now, granted)
			p.lowered = true
			return
		}
		p.notBucketTill = now.Add(notBucketFor)
		p.t0 = time.Time{}
		p.setLocked(now, float64(rate.Inf))
		p.lowered = false
		return
	}
	p.winN, p.winT, p.lowered = 0, 0, false
}

// setLocked changes the pace and starts judging it afresh.
func (p *pacer) setLocked(now time.Time, r float64) {
	// A fresh limiter, whose first place comes after the last one given
	// out: SetLimit would re-price the places owed at the new rate, and
	// the new places would land among those already given (up to one per
	// waiting worker), a burst at twice the pace.
	if r < minPace {
		// However the answers fell, no limit in front of a registry is
		// this slow; a pace below it would hold requests for minutes.
		r = minPace
	}
	p.lim = rate.NewLimiter(rate.Limit(r), 1)
	p.from = now
	if p.horizon.After(now) && r > 0 && r < float64(rate.Inf) {
		p.from = p.horizon.Add(time.Duration(float64(time.Second) / r))
	}
	p.probing = false
	p.changed, p.quiet = now, now
	p.winN, p.winT = 0, 0
	if r >= float64(rate.Inf) {
		// Let go: the places a slower pace gave out are void. (A pace
		// changed but kept leaves them be: a waiter taking a new place
		// would queue behind its own old one.)
		close(p.moved)
		p.moved = make(chan struct{})
	}
}

// rate is the pace now, in requests a second; 0 while unpaced.
func (p *pacer) rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.lim.Limit(); l != rate.Inf {
		return float64(l)
	}
	return 0
}

// pathClass groups requests as rate limits do (quay's template limits
// manifests, tags and its API separately): each class of a host is paced
// on its own.
func pathClass(path string) string {
	switch {
	case strings.Contains(path, "/manifests/"):
		return "manifests"
	case strings.HasSuffix(path, "/tags/list"):
		return "tags"
	case strings.Contains(path, "/blobs/"):
		return "blobs"
	}
	return "other"
}

// pacer returns the host's pacer for a class of paths.
func (h *hostState) pacer(class string) *pacer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pacers == nil {
		h.pacers = map[string]*pacer{}
	}
	p, ok := h.pacers[class]
	if !ok {
		p = newPacer(h.now)
		h.pacers[class] = p
	}
	return p
}

// clearToSend holds the request whose slot s is until its host's pace lets
// it go, and returns when it went. The slot is held while waiting, so the
// order WithPriority gave is kept; at a paced rate few slots are needed. A
// request whose host's quota was spent while it waited is not sent.
func (t *transport) clearToSend(r *http.Request, s *slot, p *pacer) (time.Time, error) {
	if err := t.stopped(r); err != nil {
		s.done()
		return time.Time{}, err
	}
	sent, err := p.wait(r.Context())
	if err == nil {
		err = t.stopped(r)
	} else {
		closeBody(r)
		err = fmt.Errorf("waiting to send to %s: %w", r.URL.Host, err)
	}
	if err != nil {
		s.done()
		return time.Time{}, err
	}
	return sent, nil
}
