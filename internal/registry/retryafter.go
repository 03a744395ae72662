package registry

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff bounds used when a server asks us to slow down without saying for
// how long. The first retry waits about baseBackoff, each later one doubles.
const (
	baseBackoff = 500 * time.Millisecond
	maxBackoff  = 30 * time.Second
)

// parseRetryAfter reads a Retry-After header value in either of its two
// forms (RFC 9110 section 10.2.3): delay-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past means "now" (0). ok
// is false for an empty or unreadable value, so the caller falls back to
// its own backoff instead of hammering the host.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Guard the multiplication: a silly value must not wrap negative.
		if secs > int64(maxDuration/time.Second) {
			return maxDuration, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

const maxDuration = time.Duration(1<<63 - 1)

// retryAfter returns the capped wait a response asks for. ok is false when
// the response carries no usable Retry-After header.
func retryAfter(resp *http.Response, now time.Time, limit time.Duration) (time.Duration, bool) {
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	if !ok {
		return 0, false
	}
	return min(d, limit), true
}

// backoff is the wait before retry number attempt (0 for the first retry):
// exponential from baseBackoff, capped at limit, with +-25% jitter so that
// many workers throttled at once do not return in lockstep.
func backoff(attempt int, limit time.Duration) time.Duration {
	d := baseBackoff
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit, maxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return max(d+jitter, 0)
}

// Backoff of a throttled request (429 or 503 without Retry-After): short,
// since the host's adaptive limit is what slows the traffic down, and
// growing gently, since a throttle that hits a fixed fraction of requests
// hits some requests many times in a row and each of them is on some
// backend's critical path.
const (
	throttleBase   = 100 * time.Millisecond
	throttleGrowth = 1.5
	throttleCap    = 5 * time.Second
)

// throttleBackoff is the wait before the retry of a request throttled n
// times before (0 for the first): throttleBase growing by throttleGrowth,
// capped at throttleCap and limit, drawn from its upper half ("equal
// jitter") so that throttled workers spread out but none comes back at
// once.
func throttleBackoff(n int, limit time.Duration) time.Duration {
	d := float64(throttleBase) * math.Pow(throttleGrowth, float64(min(n, 64)))
	d = min(d, float64(min(limit, throttleCap)))
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// sleep waits for d or until ctx is done, whichever comes first, so that
// every wait (Retry-After included) honours cancellation.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
