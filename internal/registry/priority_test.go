package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testreg"
)

// TestPriorityOrdersTheQueue: with the one slot taken, requests queued with
// priorities 5, 3, 3, 1 and none (0) reach the registry most urgent first,
// and the two of equal priority in the order they were asked.
func TestPriorityOrdersTheQueue(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, _ := proxied(t)
	c := newClient(t, Options{Concurrency: 1})
	head := func(ctx context.Context, tag string) {
		ref, err := c.Reference(proxy.Repo("p/a:" + tag))
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = c.Head(ctx, ref) // absent tags: the order is what counts
	}
	head(ctx, "warm") // the ping and token dance, before the queue forms
	proxy.SetLatency(200 * time.Millisecond)
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
	head := func(tag string) error {
		ref, err := c.Reference(proxy.Repo("p/a:" + tag))
		if err != nil {
			return err
		}
		_, err = c.Head(ctx, ref)
		return err
	}
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
