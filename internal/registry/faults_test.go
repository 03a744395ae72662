package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// proxied starts a registry with an image in repo "p/a" and a fault proxy in
// front of it, and returns a reference to the image through the proxy.
func proxied(t *testing.T) (*testreg.Registry, *testreg.FaultProxy, testreg.Image) {
	t.Helper()
	reg := testreg.Start(t)
	img := seed(t, reg, "p/a")
	return reg, testreg.StartFaultProxy(t, reg.Host), img
}

// waitFor polls cond for up to 10 s; the bound only stops a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// TestRetryAfterPausesTheWholeHost: one request gets 429 Retry-After: 2;
// from then on no request of any worker reaches that host before the time
// the server named, while another host is served meanwhile.
func TestRetryAfterPausesTheWholeHost(t *testing.T) {
	t.Parallel()
	for _, asDate := range []bool{false, true} {
		t.Run(fmt.Sprintf("date=%v", asDate), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			_, proxy, img := proxied(t)
			other := testreg.Start(t)
			otherImg := seed(t, other, "o/b")
			otherProxy := testreg.StartFaultProxy(t, other.Host)
			c := newClient(t, Options{})
			ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
			otherRef, _ := c.Reference(otherProxy.Repo("o/b@" + otherImg.Digest))
			for _, r := range []string{ref.String(), otherRef.String()} { // ping both hosts first
				rr, _ := c.Reference(r)
				if _, err := c.Head(ctx, rr); err != nil {
					t.Fatal(err)
				}
			}
			proxy.ResetStats()
			otherProxy.ResetStats()
			proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}},
				Effect: testreg.EffectThrottle, RetryAfter: 2 * time.Second, RetryAfterDate: asDate, Times: 1})

			var wg sync.WaitGroup
			var failures atomic.Int32
			head := func() {
				if _, err := c.Head(ctx, ref); err != nil {
					failures.Add(1)
					t.Errorf("Head after throttle: %v", err)
				}
			}
			wg.Go(head)
			h := c.transport.host(proxy.Host())
			waitFor(t, "the host to be paused", func() bool { return !h.gate().IsZero() })
			for range 5 {
				wg.Go(head)
			}
			if _, err := c.Head(ctx, otherRef); err != nil {
				t.Fatalf("Head on another host: %v", err)
			}
			wg.Wait()

			arrivals := proxy.Arrivals()
			if len(arrivals) != 7 || arrivals[0].Effect != testreg.EffectThrottle {
				t.Fatalf("want 1 throttled + 6 served HEADs, got %+v", arrivals)
			}
			retryAt := arrivals[0].RetryAt
			for _, a := range arrivals[1:] {
				if a.At.Before(retryAt) {
					t.Errorf("%s %s arrived %v before Retry-After expired", a.Method, a.Path, retryAt.Sub(a.At))
				}
			}
			others := otherProxy.Arrivals()
			if len(others) != 1 || !others[0].At.Before(retryAt) {
				t.Errorf("the other host was held up too: %+v (retry at %v)", others, retryAt)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	manifests := testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}
	tests := []struct {
		name      string
		fault     testreg.Fault
		retries   int
		wantErr   string // empty: the HEAD succeeds in the end
		wantTries int    // manifest requests that reached the proxy
	}{
		{"5xx burst", testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: 503, Times: 2}, 3, "", 3},
		{"502 then ok", testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: 502, Times: 1}, 3, "", 2},
		{"connection reset", testreg.Fault{Match: manifests, Effect: testreg.EffectReset, Times: 2}, 3, "", 3},
		{"429 without Retry-After", testreg.Fault{Match: manifests, Effect: testreg.EffectThrottle, Times: 1}, 3, "", 2},
		{"500 outlasts retries", testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: 500}, 2, "500 Internal Server Error", 3},
		{"no retries", testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: 503, Times: 1}, -1, "503 Service Unavailable", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			_, proxy, img := proxied(t)
			proxy.Add(tt.fault)
			c := newClient(t, Options{Retries: tt.retries})
			ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
			desc, err := c.Head(ctx, ref)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Head: %v", err)
			case tt.wantErr == "" && desc.Digest.String() != img.Digest:
				t.Errorf("Head digest = %s", desc.Digest)
			case tt.wantErr != "":
				class, text := Classify(err)
				if class != Other || !strings.Contains(text, tt.wantErr) {
					t.Errorf("Classify = %v, %q; want other, %q", class, text, tt.wantErr)
				}
			}
			if got := proxy.Stats().Requests("HEAD", testreg.KindManifest); got != tt.wantTries {
				t.Errorf("manifest HEADs = %d, want %d (retries must not be multiplied)", got, tt.wantTries)
			}
		})
	}
}

func TestStalledRegistryTimesOut(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	c := newClient(t, Options{Timeout: 300 * time.Millisecond, Retries: 1})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, err := c.Head(ctx, ref); err != nil { // ping while healthy
		t.Fatal(err)
	}
	proxy.ResetStats()
	proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectStall})
	_, err := c.Head(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Head on a stalled registry = %v, want a timeout error", err)
	}
	if got := proxy.Stats().Requests("HEAD", testreg.KindManifest); got != 2 {
		t.Errorf("stalled HEADs = %d, want 2 (one retry)", got)
	}
}

func TestEndlessManifestIsRefused(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{"GET"}, Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectEndless})
	const limit = 1 << 20
	c := newClient(t, Options{MaxManifestBytes: limit})
	// By digest, unknown to the client: read with one GET, which the
	// proxy answers without end.
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	_, _, err := c.Manifest(ctx, ref)
	var tooBig *ManifestTooLargeError
	if !errors.As(err, &tooBig) || tooBig.Limit != limit {
		t.Fatalf("Manifest of an endless body = %v, want ManifestTooLargeError", err)
	}
	// The proxy may have pushed a few socket buffers more than we read,
	// never anything near the 1 GiB it would send to a reader that kept on.
	if sent := proxy.Stats().Downloaded("GET", testreg.KindManifest); sent > 64<<20 {
		t.Errorf("proxy sent %d bytes before the client gave up", sent)
	}
}

// TestConcurrencyBound counts requests in flight below our transport.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.SetLatency(30 * time.Millisecond)
	c := newClient(t, Options{Concurrency: 2})
	counter := &inflightCounter{inner: c.transport.inner}
	c.transport.inner = counter
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Head(ctx, ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := counter.peak.Load(); got > 2 || got < 1 {
		t.Errorf("peak in flight = %d, want at most 2", got)
	}
}

type inflightCounter struct {
	inner      http.RoundTripper
	now, peak  atomic.Int32
	peakUpdate sync.Mutex
}

func (c *inflightCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	c.peakUpdate.Lock()
	if n > c.peak.Load() {
		c.peak.Store(n)
	}
	c.peakUpdate.Unlock()
	return c.inner.RoundTrip(r)
}

// TestPushThroughRemoteOptions pushes with remote.Write and the Client's
// options: a manifest PUT (replayable bytes) is retried after a 500, while a
// streaming blob upload cut by a reset is never replayed.
func TestPushThroughRemoteOptions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	src := testreg.Start(t)
	img := seed(t, src, "s/img")
	image := mustImage(t, src, "s/img", img)
	tests := []struct {
		name      string
		fault     testreg.Fault
		wantErr   bool
		method    string
		kind      testreg.Kind
		wantCount int
	}{
		{"manifest PUT retried", testreg.Fault{Match: testreg.Match{Methods: []string{"PUT"}, Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectStatus, Status: 500, Times: 1}, false, "PUT", testreg.KindManifest, 2},
		{"streaming upload not replayed", testreg.Fault{Match: testreg.Match{Methods: []string{"PATCH"}, Kinds: []testreg.Kind{testreg.KindUpload}}, Effect: testreg.EffectReset, Times: 1}, true, "PATCH", testreg.KindUpload, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := testreg.Start(t)
			proxy := testreg.StartFaultProxy(t, dst.Host)
			proxy.Add(tt.fault)
			c := newClient(t, Options{})
			ref, _ := c.Reference(proxy.Repo("d/img@" + img.Digest))
			opts := append(c.RemoteOptions(ctx), remote.WithJobs(1))
			err := remote.Write(ref, image, opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("remote.Write err = %v, want error %v\n%s", err, tt.wantErr, proxy.Stats())
			}
			// Per request target (an upload session URL, a manifest URL):
			// other blobs' uploads may run beside the faulted one, so the
			// property is that the faulted request was sent wantCount times.
			sent := map[string]int{}
			most := 0
			for _, a := range proxy.Arrivals() {
				if a.Method == tt.method && a.Kind == tt.kind {
					sent[a.Path]++
					most = max(most, sent[a.Path])
				}
			}
			if most != tt.wantCount {
				t.Errorf("%s %s: one request sent %d times, want %d\n%v\n%s", tt.method, tt.kind, most, tt.wantCount, sent, proxy.Stats())
			}
			ok, err := dst.ManifestExists(ctx, "d/img", img.Digest)
			if err != nil || ok == tt.wantErr {
				t.Errorf("manifest in target = %v, %v; want %v", ok, err, !tt.wantErr)
			}
		})
	}
}

func TestRefusesPlainHTTPBeforeDialing(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{})
	dialed := &inflightCounter{inner: c.transport.inner}
	c.transport.inner = dialed
	// Never sent: the guard answers first, so no packet leaves the machine.
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodGet, "http://10.0.0.5:5000/v2/", nil)
	_, err := c.transport.RoundTrip(req)
	want := "refusing plain HTTP to 10.0.0.5:5000: not listed under insecure"
	if err == nil || err.Error() != want {
		t.Fatalf("RoundTrip = %v, want %q", err, want)
	}
	if dialed.peak.Load() != 0 {
		t.Error("the refused request reached the network transport")
	}
}
