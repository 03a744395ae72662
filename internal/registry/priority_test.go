package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestPriorityOrdersTheQueue: with the one slot taken, requests queued with
// priorities 5, 3, 3, 1 and none (0) reach the registry most urgent first,
// and the two of equal priority in the order they were asked.
func TestPriorityOrdersTheQueue(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, _ := proxied(t)
	c := newClient(t, Options{Concurrency: 1})
	// Absent tags: the order they arrive in is what counts.
	head := func(ctx context.Context, tag string) { _ = headTag(t, ctx, c, proxy, tag) }
	head(ctx, "warm") // the ping and token dance, before the queue forms
	// The holder keeps the place for a second: time for the others to
	// queue, one by one, however loaded the machine.
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "holder"}, Effect: testreg.EffectDelay, Delay: time.Second})
	h := c.transport.host(proxy.Host())
	queued := func(n int) func() bool {
		return func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.queue) == n && h.held == 1
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { head(ctx, "holder") })
	waitFor(t, "the holder to take the slot", queued(0))
	for i, w := range []struct {
		tag  string
		prio int
	}{{"p5", 5}, {"p3-first", 3}, {"p3-second", 3}, {"p1", 1}, {"none", -1}} {
		rctx := ctx
		if w.prio >= 0 {
			rctx = WithPriority(ctx, w.prio)
		}
		wg.Go(func() { head(rctx, w.tag) })
		waitFor(t, w.tag+" to queue", queued(i+1))
	}
	wg.Wait()
	var got []string
	for _, a := range proxy.Arrivals() {
		if i := strings.LastIndex(a.Path, "/manifests/"); i >= 0 {
			got = append(got, a.Path[i+len("/manifests/"):])
		}
	}
	want := "warm holder none p1 p3-first p3-second p5"
	if strings.Join(got, " ") != want {
		t.Errorf("arrival order = %q, want %q", strings.Join(got, " "), want)
	}
}

// TestRetryDeadlineRunsFromTheFirstSend: a request that waited for its
// place longer than the retry deadline still has all of it to ride out a
// throttle. With one place, held 800 ms by another request, a HEAD queued
// behind it gets one HTML 429 and is retried, though its deadline is
// 500 ms.
func TestRetryDeadlineRunsFromTheFirstSend(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg, proxy, img := proxied(t)
	if err := reg.Tag(ctx, "p/a", "late", img.Digest); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Concurrency: 1, RetryDeadline: 500 * time.Millisecond})
	head := func(tag string) error { return headTag(t, ctx, c, proxy, tag) }
	_ = head("warm") // the ping, before the queue forms
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "holder"}, Effect: testreg.EffectDelay, Delay: 800 * time.Millisecond})
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "late"}, Effect: testreg.EffectThrottleHTML, Times: 1})
	h := c.transport.host(proxy.Host())
	var wg sync.WaitGroup
	wg.Go(func() { _ = head("holder") })
	waitFor(t, "the holder to take the place", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.held == 1
	})
	queued := time.Now()
	err := head("late")
	wg.Wait()
	if err != nil {
		t.Fatalf("HEAD after %s queued and one 429: %v; want it retried", time.Since(queued).Round(time.Millisecond), err)
	}
	if got := proxy.Stats().Status(http.StatusTooManyRequests); got != 1 {
		t.Errorf("%d throttles answered, want 1", got)
	}
}

// TestQueueWaitOnARetryKeepsTheDeadline: a throttled request whose retry
// waits for a place behind another request gets that wait back. Deadline
// 2 s; "late" is held 300 ms and throttled twice; while its first try is
// out, "holder" (held 2.5 s) queues for the one place and takes it when
// the first 429 frees it, so late's retry waits over 2 s for a place and
// its second 429 comes after its first send's deadline. It is retried
// again, and answered. Its own sends and backoffs take about 1.1 s, so a
// loaded machine has most of a second of slack.
func TestQueueWaitOnARetryKeepsTheDeadline(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg, proxy, img := proxied(t)
	if err := reg.Tag(ctx, "p/a", "late", img.Digest); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Concurrency: 1, RetryDeadline: 2 * time.Second})
	head := func(tag string) error { return headTag(t, ctx, c, proxy, tag) }
	_ = head("warm") // the ping, before the queue forms
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "holder"}, Effect: testreg.EffectDelay, Delay: 2500 * time.Millisecond})
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "late"}, Effect: testreg.EffectDelay, Delay: 300 * time.Millisecond})
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "late"}, Effect: testreg.EffectThrottleHTML, Times: 2})
	var lateErr error
	var wg sync.WaitGroup
	wg.Go(func() { lateErr = head("late") })
	waitFor(t, "late's first try to reach the registry", func() bool {
		for _, a := range proxy.Arrivals() {
			if strings.HasSuffix(a.Path, "/late") {
				return true
			}
		}
		return false
	})
	wg.Go(func() { _ = head("holder") })
	wg.Wait()
	if lateErr != nil {
		t.Fatalf("late: %v; want it retried after its wait for a place", lateErr)
	}
	var order []string
	for _, a := range proxy.Arrivals() {
		if i := strings.LastIndex(a.Path, "/"); i >= 0 && a.Kind == testreg.KindManifest {
			order = append(order, a.Path[i+1:])
		}
	}
	if want := "warm late holder late late"; strings.Join(order, " ") != want {
		t.Errorf("arrivals %q, want %q (the holder between late's tries)", strings.Join(order, " "), want)
	}
}

// TestQueuedLeavesOutThePause: of a wait for a place, the part before the
// host's Retry-After gate opened is the pause, not queueing.
func TestQueuedLeavesOutThePause(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tt := range []struct {
		asked, got, gate int
		want             time.Duration
	}{
		{0, 100, -50, 100 * time.Millisecond}, // no pause: all of it queued
		{0, 100, 30, 70 * time.Millisecond},   // paused 30 ms, then queued
		{0, 100, 100, 0},                      // paused the whole wait
		{0, 100, 500, 0},                      // the gate moved on since
	} {
		if got := queued(at(tt.asked), at(tt.got), at(tt.gate)); got != tt.want {
			t.Errorf("queued(asked %d, got %d, gate %d) = %s, want %s", tt.asked, tt.got, tt.gate, got, tt.want)
		}
	}
}

// TestSetupRequests: the ping and token fetches every later request waits
// on are told apart from the registry work itself.
func TestSetupRequests(t *testing.T) {
	for _, tt := range []struct {
		method, url string
		want        bool
	}{
		{"GET", "https://quay.io/v2/", true},
		{"GET", "https://auth.docker.io/token?scope=repository%3Alocalai%2Flocalai-backends%3Apull&service=registry.docker.io", true},
		{"GET", "https://quay.io/v2/auth?account=x&scope=repository%3Ago-skynet%2Fci-cache%3Apull&service=quay.io", true},
		{"HEAD", "https://quay.io/v2/go-skynet/ci-cache/manifests/latest", false},
		{"GET", "https://quay.io/v2/go-skynet/ci-cache/tags/list?n=100", false},
	} {
		req, err := http.NewRequest(tt.method, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := setup(req); got != tt.want {
			t.Errorf("setup(%s %s) = %v, want %v", tt.method, tt.url, got, tt.want)
		}
	}
}

// headTag HEADs p/a:tag through proxy; a reference that does not parse
// fails the test.
func headTag(t *testing.T, ctx context.Context, c *Client, proxy *testreg.FaultProxy, tag string) error {
	ref, err := c.Reference(proxy.Repo("p/a:" + tag))
	if err != nil {
		t.Error(err)
		return err
	}
	_, err = c.Head(ctx, ref)
	return err
}
