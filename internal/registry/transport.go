package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// transport is remerge's layer under go-containerregistry's auth transport,
// so it sees every request, token fetches and pings included. It refuses
// plain HTTP to hosts not allowed it, bounds requests in flight per host
// (until their answers are finished, see hostState), adapts that bound to
// the host's throttling, honours Retry-After per host for all workers at
// once, retries what can be retried safely, and puts an idle timeout (and,
// for manifests, a size cap) on response bodies.
type transport struct {
	inner       http.RoundTripper
	insecure    insecureSet
	concurrency int
	retries     int
	retryFor    time.Duration
	maxWait     time.Duration
	timeout     time.Duration
	maxManifest int64
	now         func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostState
	// quota is what each host said of its pull quota; a host whose quota
	// is spent is not sent anything until its window has passed.
	quota budgets
}

func (t *transport) host(hostport string) *hostState {
	hostport = strings.ToLower(hostport)
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.hosts[hostport]
	if !ok {
		h = newHostState(t.concurrency, t.now)
		t.hosts[hostport] = h
	}
	return h
}

// RoundTrip sends req when the host has room for it, and retries when the
// request can be sent again (no body, or a body GetBody can recreate; a
// streaming upload body is never replayed):
//
//   - a throttle (429, 503) until the request's deadline (Options.RetryDeadline,
//     or the context's if sooner): after the Retry-After the host asked
//     for, or without one after a jittered backoff, while the host's
//     adaptive limit takes fewer requests at once;
//   - other 5xx, 408 and connection failures up to Options.Retries times.
//
// When retries run out on a status the last response is returned as is, so
// the caller sees the registry's own error text, except that a page
// (isPage) never reaches it: a throttle answered with one (quay.io's)
// becomes a ThrottledError, and any other error page is dropped.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.insecure.checkScheme(req.URL); err != nil {
		closeBody(req)
		return nil, err
	}
	ctx := req.Context()
	h := t.host(req.URL.Host)
	replay := replayable(req) && t.retries > 0
	stream := isBlobGet(req)
	prio := priorityFor(req)
	pace := h.pacer(pathClass(req.URL.Path))
	var start, deadline time.Time
	failures, throttles := 0, 0
	for attempt := 1; ; attempt++ {
		r, err := t.attemptRequest(req, attempt-1)
		if err != nil {
			return nil, err
		}
		asked := t.now()
		s, err := h.acquire(ctx, stream, prio)
		if err != nil {
			closeBody(r)
			return nil, fmt.Errorf("waiting to send to %s: %w", req.URL.Host, err)
		}
		sent, err := t.clearToSend(r, s, pace)
		if err != nil {
			return nil, err
		}
		// The deadline runs from the first send, and time spent queued for
		// a place (behind more urgent requests, see WithPriority) does not
		// use it up: only the sends and the waits the throttling asked for
		// (backoff, the host's Retry-After pause) do.
		if attempt == 1 {
			start = t.now()
			deadline = firstDeadline(ctx, start, t.retryFor)
		} else {
			deadline = minDeadline(ctx, deadline.Add(queued(asked, t.now(), h.gate())))
		}
		actx, cancel := context.WithCancel(ctx)
		resp, err := t.inner.RoundTrip(r.WithContext(actx))
		if err != nil {
			s.done()
			cancel()
			if err := t.afterFailure(ctx, replay, failures, err); err != nil {
				return nil, err
			}
			failures++
			continue
		}
		if qerr := t.readQuota(req, resp); qerr != nil {
			drain(resp.Body)
			s.answeredWith(false)
			s.done()
			cancel()
			return nil, qerr // not retried: it would not help for hours
		}
		throttled, wait := t.judge(h, s, pace, sent, resp, throttles)
		throttles += btoi(throttled)
		switch {
		case throttled && replay && ctx.Err() == nil && t.now().Add(wait).Before(deadline):
		case replay && retryableStatus(resp.StatusCode) && failures < t.retries && ctx.Err() == nil:
			wait = backoff(failures, t.maxWait)
			failures++
		default:
			resp, err := t.answer(req, resp, s, cancel, attempt, t.now().Sub(start))
			if err == nil {
				watchReferrers(req, resp)
			}
			return resp, err
		}
		drain(resp.Body)
		s.done()
		cancel()
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// afterFailure waits before sending again a request that failed without
// an answer, or returns the error to give up with.
func (t *transport) afterFailure(ctx context.Context, replay bool, failures int, err error) error {
	if !replay || failures >= t.retries || ctx.Err() != nil || !retryableError(err) {
		return err
	}
	return sleep(ctx, backoff(failures, t.maxWait))
}

// judge feeds an answer to the host's adaptive limit and pacer, and says
// whether it is a throttle and how long to wait before trying again.
// throttles is how many times this request was throttled before.
func (t *transport) judge(h *hostState, s *slot, pace *pacer, sent time.Time, resp *http.Response, throttles int) (bool, time.Duration) {
	if !isThrottle(resp.StatusCode) {
		s.answeredWith(false)
		pace.answered(sent, false)
		return false, 0
	}
	// Close the gate before giving up the slot: a worker queued for the
	// slot must find the pause already set.
	ra, asked := retryAfter(resp, t.now(), t.maxWait)
	if asked {
		h.pause(t.now().Add(ra))
	}
	s.answeredWith(!asked)
	if !asked {
		// A pause the server asked for says nothing of a bucket's rate.
		pace.answered(sent, true)
	}
	if !asked || ra <= 0 {
		return true, throttleBackoff(throttles, t.maxWait)
	}
	return true, ra
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// firstDeadline is a request's retry deadline from its first send: retryFor
// later, or the context's deadline if sooner.
func firstDeadline(ctx context.Context, start time.Time, retryFor time.Duration) time.Time {
	return minDeadline(ctx, start.Add(retryFor))
}

// minDeadline is d, or the context's deadline if sooner.
func minDeadline(ctx context.Context, d time.Time) time.Time {
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// queued is the part of a wait for a place, from asked to got, that was
// queueing rather than the host's pause (which ends at gate).
func queued(asked, got, gate time.Time) time.Duration {
	if !gate.After(asked) {
		return got.Sub(asked)
	}
	if gate.After(got) {
		gate = got
	}
	return got.Sub(gate)
}

// priorityFor is req's place in its host's queue (see WithPriority).
// Every request to the repo waits on its ping and token, whoever asked
// first: they go ahead of all queued work.
func priorityFor(req *http.Request) int {
	if setup(req) {
		return 0
	}
	return priorityOf(req.Context())
}

// setup reports whether req is a repo's setup, which every later request to
// it waits on: the /v2/ ping, or a token fetch (a GET asking for a scope).
func setup(req *http.Request) bool {
	if req.URL.Path == "/v2/" || req.URL.Path == "/v2" {
		return true
	}
	return req.Method == http.MethodGet && req.URL.Query().Has("scope")
}

// answer hands the final response to the caller, with its slot held until
// the body is finished. An error's body is read now (it is small, and a
// caller may hold it open while it sends the next request:
// go-containerregistry's referrers lookup keeps the API's 404 open while
// it asks for the fallback tag; read later, such nested requests would
// hold two slots each and, all slots taken, wait for each other). When
// that body is a page rather than the registry's words (isPage), it never
// reaches the caller: a 429 with no words of the registry's (quay.io's
// nginx page, or no body) becomes a ThrottledError, and any other page is
// dropped.
func (t *transport) answer(req *http.Request, resp *http.Response, s *slot, cancel context.CancelFunc, tries int, spent time.Duration) (*http.Response, error) {
	if resp.StatusCode < http.StatusBadRequest {
		return t.wrapResponse(req, resp, s, cancel)
	}
	resp.Body = newIdleBody(resp.Body, req.URL.Host, t.timeout, cancel)
	body, err := readBack(resp)
	s.done()
	if err != nil {
		return nil, fmt.Errorf("reading the %d answer of %s: %w", resp.StatusCode, req.URL.Host, err)
	}
	page := isPage(body)
	if resp.StatusCode == http.StatusTooManyRequests && (page || len(body) == 0) {
		return nil, &ThrottledError{Host: req.URL.Host, Tries: tries, Spent: spent}
	}
	if page {
		// A proxy's error page says nothing the status does not, and
		// would fill a table cell with markup.
		resp.Body = http.NoBody
		resp.ContentLength = 0
		resp.Header.Del("Content-Type")
	}
	return resp, nil
}

// maxErrorBody bounds the error body kept for the caller: registries
// answer errors with a line or two of JSON.
const maxErrorBody = 64 << 10

// isThrottle reports whether a status asks the client to slow down.
func isThrottle(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// isBlobGet reports whether req downloads a blob: the one body a caller may
// read while it sends other requests (the upload it feeds).
func isBlobGet(req *http.Request) bool {
	return req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") &&
		!strings.Contains(req.URL.Path, "/blobs/uploads")
}

// attemptRequest returns the request to send for the given attempt: req
// itself first, then a clone with a fresh body from GetBody.
func (t *transport) attemptRequest(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewinding request body for retry: %w", err)
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// wrapResponse puts the idle timeout and, for manifests, the size cap on
// the body of an answer that is not an error (answer reads those), and
// ties the slot to it: the slot is given back when the body is read to its
// end, closed, or left untouched for the timeout (a caller that forgets a
// body must not shrink the host's bound for good). An answer without a
// body gives it back at once. cancel ends the attempt's context and is
// called on Close.
func (t *transport) wrapResponse(req *http.Request, resp *http.Response, s *slot, cancel context.CancelFunc) (*http.Response, error) {
	host := req.URL.Host
	if isManifestGet(req) && resp.StatusCode == http.StatusOK {
		if resp.ContentLength > t.maxManifest {
			drain(resp.Body)
			s.done()
			cancel()
			return nil, &ManifestTooLargeError{Host: host, Limit: t.maxManifest}
		}
		resp.Body = &limitedBody{rc: resp.Body, host: host, limit: t.maxManifest}
	}
	resp.Body = newIdleBody(resp.Body, host, t.timeout, cancel)
	// With a limit of one, a download feeding an upload to the same host
	// would wait for its own slot: such a body gives it back now.
	if req.Method == http.MethodHead || resp.ContentLength == 0 || (!s.stream && isBlobGet(req)) {
		s.done()
		return resp, nil
	}
	resp.Body = newSlotBody(resp.Body, s, t.timeout)
	return resp, nil
}

// replayable reports whether a request may be sent a second time: it must
// have no body, or a body GetBody can recreate on a method whose repeat is
// harmless. A blob upload (PATCH, or POST with a body) is never replayed,
// even when go-containerregistry offers GetBody: the registry may already
// hold part of the first attempt in that upload session, and appending the
// bytes again corrupts it. Such a failure surfaces to the caller, who can
// start a fresh upload.
func replayable(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	switch req.Method {
	case http.MethodPatch, http.MethodPost:
		return false
	}
	return req.GetBody != nil
}

// retryableStatus lists the statuses worth a few more tries: the
// server-side failures that are usually transient. Throttles (429, 503)
// are retried until the deadline instead (isThrottle).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a transport error looks like a network
// blip (reset, early close, timeout) rather than a refusal or a TLS mismatch
// that would fail the same way again.
func retryableError(err error) bool {
	// Cancellation by the caller is ruled out before this is asked (and
	// net/http's header timeout claims to be context.DeadlineExceeded, so
	// it must not be tested for here).
	var plain *PlainHTTPError
	switch {
	case errors.As(err, &plain):
		return false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeBody honours the RoundTripper contract of closing the request body
// even when the request is never sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
