package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestThrottledErrorText: a registry that throttles every request as
// quay.io does (429, HTML page, no Retry-After) is retried until the
// request's deadline, and then the error reads "429 Too Many Requests
// (throttled)", never the page.
func TestThrottledErrorText(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	c := newClient(t, Options{RetryDeadline: 600 * time.Millisecond})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, err := c.Head(ctx, ref); err != nil { // ping while healthy
		t.Fatal(err)
	}
	proxy.ResetStats()
	proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectThrottleHTML})
	_, headErr := c.Head(ctx, ref)
	_, _, getErr := c.Manifest(ctx, ref)
	for _, err := range []error{headErr, getErr} {
		var te *ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("error %v (%T), want a ThrottledError", err, err)
		}
		class, text := Classify(err)
		if class != Other || !strings.HasPrefix(text, "429 Too Many Requests (throttled)") {
			t.Errorf("Classify = %v, %q; want other, 429 Too Many Requests (throttled)...", class, text)
		}
		if strings.Contains(err.Error(), "<") || strings.Contains(text, "<") {
			t.Errorf("HTML leaked into the error: %v", err)
		}
		if te.Tries < 3 {
			t.Errorf("gave up after %d tries; a throttle is retried until the deadline", te.Tries)
		}
	}
	if n := proxy.Stats().Status(http.StatusTooManyRequests); n < 6 {
		t.Errorf("proxy answered %d 429s, want the retries of both requests", n)
	}
}

// TestHTMLErrorPageDropped: a 502 page from a proxy in front of the
// registry does not reach the error text either.
func TestHTMLErrorPageDropped(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectStatus,
		Status: http.StatusBadGateway, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"})
	c := newClient(t, Options{Retries: 1})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	_, _, err := c.Manifest(ctx, ref)
	// The fault proxy labels its bodies text/plain; the classifier still
	// knows markup when it sees it.
	if _, text := Classify(err); text != "502 Bad Gateway" {
		t.Errorf("Classify text %q, want 502 Bad Gateway", text)
	}
}

// TestThrottlesRetriedPastRetries: throttles are bounded by the deadline,
// not by the retry count that bounds other failures.
func TestThrottlesRetriedPastRetries(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	manifests := testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}
	proxy.Add(testreg.Fault{Match: manifests, Effect: testreg.EffectThrottleHTML, Times: 3})
	proxy.Add(testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: 503, Times: 3})
	c := newClient(t, Options{Retries: 1})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, err := c.Head(ctx, ref); err != nil {
		t.Fatalf("Head after 6 throttles: %v", err)
	}
	if got := proxy.Stats().Requests("HEAD", testreg.KindManifest); got != 7 {
		t.Errorf("manifest HEADs = %d, want 7", got)
	}
}

// TestAdaptiveLimit: a host that throttles everything gets fewer requests
// at once; once it answers again the limit grows back to the configured
// concurrency, never past it.
func TestAdaptiveLimit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	const limit = 8
	c := newClient(t, Options{Concurrency: limit, RetryDeadline: 700 * time.Millisecond})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, err := c.Head(ctx, ref); err != nil {
		t.Fatal(err)
	}
	h := c.transport.host(proxy.Host())
	proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectThrottleHTML})
	heads := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { _, _ = c.Head(ctx, ref) })
		}
		wg.Wait()
	}
	heads(limit)
	if got := h.currentLimit(); got > 2 {
		t.Errorf("limit after a throttling storm = %v, want at most 2", got)
	}
	proxy.Clear()
	for range 6 {
		heads(2 * limit)
	}
	if got := h.currentLimit(); got != limit {
		t.Errorf("limit after healthy traffic = %v, want back at %d", got, limit)
	}
}

// TestBodyHoldsItsSlot: an open blob body holds its slot; a second blob
// download waits for it, since downloads never take a host's last slot,
// and that last slot serves other requests meanwhile (the upload a
// download feeds). With one slot a blob body gives it back at once.
func TestBodyHoldsItsSlot(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img, err := reg.PushImage(ctx, "p/a", amd64, testreg.ImageOptions{Layers: 2, LayerSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	proxy := testreg.StartFaultProxy(t, reg.Host)
	open := func(c *Client, digest string) io.ReadCloser {
		t.Helper()
		repo, _ := c.Repository(proxy.Repo("p/a"))
		l, err := c.Puller().Layer(ctx, repo.Digest(digest))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	t.Run("two slots", func(t *testing.T) {
		c := newClient(t, Options{Concurrency: 2})
		r, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
		first := open(c, img.Layers[0])
		second := make(chan io.ReadCloser)
		go func() { second <- open(c, img.Layers[1]) }()
		if _, err := c.Head(ctx, r); err != nil { // the last slot
			t.Fatal(err)
		}
		select {
		case rc := <-second:
			rc.Close()
			t.Fatal("a second download took the last slot while the first body was open")
		case <-time.After(100 * time.Millisecond):
		}
		first.Close()
		rc := <-second
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	})
	t.Run("one slot", func(t *testing.T) {
		c := newClient(t, Options{Concurrency: 1})
		r, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
		body := open(c, img.Layers[0])
		defer body.Close()
		if _, err := c.Head(ctx, r); err != nil {
			t.Fatal(err)
		}
	})
}

// TestForgottenBodyGivesSlotBack: a body nobody reads or closes gives its
// slot back after the timeout instead of shrinking the host for good.
func TestForgottenBodyGivesSlotBack(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	c := newClient(t, Options{Concurrency: 1, Timeout: 300 * time.Millisecond})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+proxy.Host()+"/v2/", nil)
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength == 0 {
		t.Skip("the ping has no body here; nothing to forget")
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, err := c.Head(short, ref); err != nil {
		t.Fatalf("Head while a body is forgotten: %v", err)
	}
}
