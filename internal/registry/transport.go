package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// hostState is what all workers share about one registry host: a semaphore
// bounding requests in flight, and the time before which nothing may be sent
// because the host asked us to back off (429/503 Retry-After).
type hostState struct {
	sem chan struct{}

	mu        sync.Mutex
	notBefore time.Time
}

// pause pushes the host's gate to at least until; never pulls it earlier.
func (h *hostState) pause(until time.Time) {
	h.mu.Lock()
	if until.After(h.notBefore) {
		h.notBefore = until
	}
	h.mu.Unlock()
}

func (h *hostState) gate() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.notBefore
}

// acquire waits until the host's gate is open and a slot is free. The gate
// is checked again once the slot is held: a request that queued for a slot
// while another one got a 429 must not slip out before the pause ends.
func (h *hostState) acquire(ctx context.Context, now func() time.Time) error {
	for {
		if err := sleep(ctx, h.gate().Sub(now())); err != nil {
			return err
		}
		select {
		case h.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !h.gate().After(now()) {
			return nil
		}
		<-h.sem
	}
}

func (h *hostState) release() { <-h.sem }

// transport is remerge's layer under go-containerregistry's auth transport,
// so it sees every request, token fetches and pings included. It refuses
// plain HTTP to hosts not allowed it, bounds requests in flight per host,
// honours Retry-After per host for all workers at once, retries what can be
// retried safely, and puts an idle timeout (and, for manifests, a size cap)
// on response bodies.
type transport struct {
	inner       http.RoundTripper
	insecure    insecureSet
	concurrency int
	retries     int
	maxWait     time.Duration
	timeout     time.Duration
	maxManifest int64
	now         func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostState
}

func (t *transport) host(hostport string) *hostState {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.hosts[hostport]
	if !ok {
		h = &hostState{sem: make(chan struct{}, t.concurrency)}
		t.hosts[hostport] = h
	}
	return h
}

// RoundTrip sends req, retrying 429, 5xx and connection failures when the
// request can be sent again (no body, or a body GetBody can recreate). A
// streaming upload body is never replayed. When retries run out on a status
// the last response is returned as is, so the caller sees the registry's
// own error text.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.insecure.checkScheme(req.URL); err != nil {
		closeBody(req)
		return nil, err
	}
	ctx := req.Context()
	h := t.host(req.URL.Host)
	replay := replayable(req)
	for attempt := 0; ; attempt++ {
		r, err := t.attemptRequest(req, attempt)
		if err != nil {
			return nil, err
		}
		if err := h.acquire(ctx, t.now); err != nil {
			closeBody(r)
			return nil, fmt.Errorf("waiting to send to %s: %w", req.URL.Host, err)
		}
		actx, cancel := context.WithCancel(ctx)
		resp, err := t.inner.RoundTrip(r.WithContext(actx))
		// Close the gate before giving up the slot: a worker queued for
		// the slot must find the pause already set, not slip out first.
		paused := err == nil && t.pauseIfAsked(h, resp, attempt)
		h.release()
		more := replay && attempt < t.retries && ctx.Err() == nil
		if err != nil {
			cancel()
			if !more || !retryableError(err) {
				return nil, err
			}
			if err := sleep(ctx, backoff(attempt, t.maxWait)); err != nil {
				return nil, err
			}
			continue
		}
		if more && retryableStatus(resp.StatusCode) {
			drain(resp.Body)
			cancel()
			if !paused {
				if err := sleep(ctx, backoff(attempt, t.maxWait)); err != nil {
					return nil, err
				}
			}
			continue
		}
		return t.wrapResponse(req, resp, cancel)
	}
}

// pauseIfAsked closes the host's gate after a 429 or a 503 with
// Retry-After: for the time the server asked (capped), or for a backoff when
// a 429 does not say. Every worker waits on the same gate. It reports
// whether it paused the host, so the caller does not wait twice.
func (t *transport) pauseIfAsked(h *hostState, resp *http.Response, attempt int) bool {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return false
	}
	wait, ok := retryAfter(resp, t.now(), t.maxWait)
	if !ok && resp.StatusCode == http.StatusTooManyRequests {
		wait, ok = backoff(attempt, t.maxWait), true
	}
	if ok {
		h.pause(t.now().Add(wait))
	}
	return ok
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
// the body. cancel ends the attempt's context and is called on Close.
func (t *transport) wrapResponse(req *http.Request, resp *http.Response, cancel context.CancelFunc) (*http.Response, error) {
	host := req.URL.Host
	if isManifestGet(req) && resp.StatusCode == http.StatusOK {
		if resp.ContentLength > t.maxManifest {
			drain(resp.Body)
			cancel()
			return nil, &ManifestTooLargeError{Host: host, Limit: t.maxManifest}
		}
		resp.Body = &limitedBody{rc: resp.Body, host: host, limit: t.maxManifest}
	}
	resp.Body = newIdleBody(resp.Body, host, t.timeout, cancel)
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

// retryableStatus lists the statuses worth another try: rate limiting and
// the server-side failures that are usually transient.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusRequestTimeout,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
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
