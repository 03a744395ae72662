package registry

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
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
