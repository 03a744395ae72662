package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// BodyTimeoutError is returned by a response body whose server stopped
// sending for longer than Options.Timeout. A registry that stalls mid-body
// would otherwise hold a worker (and its concurrency slot upstream) forever,
// since http.Transport only times the wait for headers.
type BodyTimeoutError struct {
	Host string
	Idle time.Duration // how long the body stayed silent
}

// Error says "timeout" so that logs and Classify text read plainly.
func (e *BodyTimeoutError) Error() string {
	return fmt.Sprintf("timeout: %s sent no data for %s while reading a response body", e.Host, e.Idle)
}

// Timeout marks the error as a timeout for callers testing net.Error-style.
func (e *BodyTimeoutError) Timeout() bool { return true }

// ManifestTooLargeError is returned when a manifest body is bigger than
// Options.MaxManifestBytes. Manifests are read whole into memory, so a broken
// or hostile registry sending an endless body must fail, not exhaust memory.
type ManifestTooLargeError struct {
	Host  string
	Limit int64
}

// Error names the host and the limit that was crossed.
func (e *ManifestTooLargeError) Error() string {
	return fmt.Sprintf("manifest from %s is larger than the limit of %d bytes", e.Host, e.Limit)
}

// idleBody fails a Read that waits longer than timeout for data, by
// cancelling the request's own context. Time the consumer spends between
// reads does not count: a slow consumer is not a stalled server.
type idleBody struct {
	rc       io.ReadCloser
	host     string
	timeout  time.Duration
	cancel   context.CancelFunc
	timer    *time.Timer
	timedOut atomic.Bool
}

func newIdleBody(rc io.ReadCloser, host string, timeout time.Duration, cancel context.CancelFunc) *idleBody {
	b := &idleBody{rc: rc, host: host, timeout: timeout, cancel: cancel}
	b.timer = time.AfterFunc(timeout, func() {
		b.timedOut.Store(true)
		cancel()
	})
	b.timer.Stop()
	return b
}

// Read arms the idle timer for the duration of one underlying Read.
func (b *idleBody) Read(p []byte) (int, error) {
	if b.timedOut.Load() {
		return 0, &BodyTimeoutError{Host: b.host, Idle: b.timeout}
	}
	b.timer.Reset(b.timeout)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && !errors.Is(err, io.EOF) && b.timedOut.Load() {
		err = &BodyTimeoutError{Host: b.host, Idle: b.timeout}
	}
	return n, err
}

// Close stops the timer, releases the request context and closes the body.
func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// limitedBody fails once more than limit bytes have been read, so a reader
// such as io.ReadAll stops after at most limit+len(p) bytes in memory.
type limitedBody struct {
	rc    io.ReadCloser
	host  string
	limit int64
	read  int64
}

// Read passes bytes through until the limit is crossed.
func (b *limitedBody) Read(p []byte) (int, error) {
	if b.read > b.limit {
		return 0, &ManifestTooLargeError{Host: b.host, Limit: b.limit}
	}
	// Ask for at most one byte past the limit: enough to detect the excess.
	if room := b.limit + 1 - b.read; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		return n, &ManifestTooLargeError{Host: b.host, Limit: b.limit}
	}
	return n, err
}

// Close closes the underlying body.
func (b *limitedBody) Close() error { return b.rc.Close() }

// isManifestGet reports whether req fetches a manifest, the one response
// kind read whole into memory by go-containerregistry.
func isManifestGet(req *http.Request) bool {
	return req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v2/") &&
		strings.Contains(req.URL.Path, "/manifests/")
}

// isPage reports whether an error answer's body is some other server's
// page rather than the registry's words: markup, such as quay.io's nginx
// 429 page or a proxy's or CDN's 404 and 502 pages. It is the one answer
// to "is this an HTML error page", asked by the transport (drop the page,
// or take a 429 with one for a throttle), by quotaRefusal and by Classify.
//
// It reads the body, never the Content-Type header: the OCI distribution
// spec lets a 4xx body be in any format and does not require a
// Content-Type on it, proxies serve their pages as text/plain or with no
// label at all, and a registry's JSON error labelled text/html still says
// MANIFEST_UNKNOWN or TOOMANYREQUESTS (go-containerregistry parses error
// bodies whatever their label, and so must we).
func isPage(body []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\ufeff")), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// readBack reads an answer's body, at most maxErrorBody of it (an error
// body is a line or two of JSON), and puts the bytes back for the next
// reader.
func readBack(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return b, err
}

// drain reads and discards a little of a body we are about to retry past,
// so the connection can be reused, then closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}

// slotBody holds its request's concurrency slot until the body is read to
// its end or closed, so the registry never has more answers in flight than
// the limit, streaming ones included. A body nobody reads or closes for
// the timeout gives the slot back (it stays readable): a caller that
// forgets a body costs a connection, not the host's bound for good.
type slotBody struct {
	rc      io.ReadCloser
	slot    *slot
	timeout time.Duration
	timer   *time.Timer
}

func newSlotBody(rc io.ReadCloser, s *slot, timeout time.Duration) *slotBody {
	return &slotBody{rc: rc, slot: s, timeout: timeout, timer: time.AfterFunc(timeout, s.done)}
}

// Read passes bytes through; the end of the body, or a failure reading it,
// ends the request.
func (b *slotBody) Read(p []byte) (int, error) {
	b.timer.Stop()
	n, err := b.rc.Read(p)
	if err != nil {
		b.slot.done()
		return n, err
	}
	b.timer.Reset(b.timeout)
	return n, err
}

// Close closes the body and gives the slot back.
func (b *slotBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.slot.done()
	return err
}
