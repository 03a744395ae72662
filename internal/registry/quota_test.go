package registry

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestBudgetMessage: the text a person reads names the cause and the way
// out, Docker Hub by its name.
func TestBudgetMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    Budget
		want string
	}{
		{Budget{Host: "index.docker.io", Limit: 100, Remaining: 0, Window: 6 * time.Hour, Spent: true},
			"Docker Hub pull limit reached (0 of 100 per 6 h left): log in with `docker login`, or wait"},
		{Budget{Host: "quay.example", Limit: 200, Remaining: 0, Window: time.Hour, Spent: true},
			"quay.example pull limit reached (0 of 200 per 1 h left): log in with `docker login quay.example`, or wait"},
		{Budget{Host: "registry-1.docker.io", Limit: -1, Remaining: 0, Spent: true},
			"Docker Hub pull limit reached (0 pulls left): log in with `docker login`, or wait"},
		{Budget{Host: "index.docker.io", Limit: 100, Remaining: 76, Window: 6 * time.Hour},
			"Docker Hub: 76 of 100 per 6 h left"},
	} {
		if got := tc.b.Message(); got != tc.want {
			t.Errorf("Message() = %q, want %q", got, tc.want)
		}
	}
}

// TestRateHeader reads Docker Hub's header values.
func TestRateHeader(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]struct {
		n  int
		w  time.Duration
		ok bool
	}{
		"100;w=21600": {100, 6 * time.Hour, true},
		"76;w=3600":   {76, time.Hour, true},
		"0":           {0, 0, true},
		" 5 ; w=60 ":  {5, time.Minute, true},
		"":            {0, 0, false},
		"many":        {0, 0, false},
		"-1;w=60":     {0, 0, false},
	} {
		n, w, ok := rateHeader(v)
		if n != want.n || w != want.w || ok != want.ok {
			t.Errorf("rateHeader(%q) = %d, %s, %v; want %d, %s, %v", v, n, w, ok, want.n, want.w, want.ok)
		}
	}
}

// TestQuotaAlreadySpent: behind a proxy answering as Docker Hub does once
// the pull quota is spent, the first request fails with a QuotaError
// naming the limit and the way out, classified Quota, and no later request
// reaches the registry at all: no retry loop.
func TestQuotaAlreadySpent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.SetPullQuota(testreg.DockerHubQuota(0))
	c := newClient(t, Options{})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	_, err := c.Head(ctx, ref)
	var qe *QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("HEAD with the quota spent: %v, want a QuotaError", err)
	}
	cls, msg := Classify(err)
	want := proxy.Host() + " pull limit reached (0 of 100 per 6 h left): log in with `docker login " + proxy.Host() + "`, or wait"
	if cls != Quota || msg != want {
		t.Errorf("Classify = %s, %q; want quota, %q", cls, msg, want)
	}
	sent := proxy.Stats().Total()
	for range 20 {
		if _, _, err := c.Manifest(ctx, ref); !errors.As(err, &qe) {
			t.Fatalf("GET after the refusal: %v, want a QuotaError", err)
		}
	}
	if after := proxy.Stats().Total(); after != sent {
		t.Errorf("%d requests reached the registry after the quota was spent, want none", after-sent)
	}
	if _, refused := proxy.QuotaCounts(); refused != 1 {
		t.Errorf("%d requests refused for the quota, want 1", refused)
	}
	b := c.Budgets()[proxy.Host()]
	if !b.Spent || b.Limit != 100 || b.Remaining != 0 || b.Window != 6*time.Hour || b.Source != "127.0.0.1" {
		t.Errorf("budget = %+v, want spent, 0 of 100 per 6 h, source 127.0.0.1", b)
	}
}

// TestQuotaRunsOut: the budget is read from HEADs (which cost no pull),
// GETs spend it, and the answer that says none is left stops the host:
// the pulls after it are never sent, concurrent ones included.
func TestQuotaRunsOut(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.SetPullQuota(testreg.DockerHubQuota(5))
	c := newClient(t, Options{})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	for range 3 {
		if _, err := c.Head(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if b := c.Budgets()[proxy.Host()]; b.Remaining != 5 || b.Spent {
		t.Fatalf("after 3 HEADs: budget %+v, want 5 left", b)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, quota := 0, 0
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The Puller itself: Manifest would serve repeats of one digest
			// from the Client's content cache, without a pull.
			_, err := c.Puller().Get(ctx, ref)
			var qe *QuotaError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &qe):
				quota++
			default:
				t.Errorf("GET: %v, want an answer or a QuotaError", err)
			}
		}()
	}
	wg.Wait()
	pulls, refused := proxy.QuotaCounts()
	if ok != 5 || pulls != 5 || quota != 35 {
		t.Errorf("%d GETs answered, %d pulls counted, %d quota errors; want 5, 5, 35", ok, pulls, quota)
	}
	// Requests already sent when the last pull was answered are refused;
	// none is sent after: at most the concurrency.
	if refused > DefaultConcurrency {
		t.Errorf("%d requests refused for the quota, want at most %d (those in flight)", refused, DefaultConcurrency)
	}
	if b := c.Budgets()[proxy.Host()]; !b.Spent {
		t.Errorf("budget %+v, want spent", b)
	}
}

// TestHTMLThrottleIsNoQuota: a plain 429 (nginx's HTML page, no
// Retry-After) is a throttle: retried and answered, and nothing is taken
// for a spent quota.
func TestHTMLThrottleIsNoQuota(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}, Effect: testreg.EffectThrottleHTML, Times: 3})
	c := newClient(t, Options{})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	if _, _, err := c.Manifest(ctx, ref); err != nil {
		t.Fatalf("GET after three HTML 429s: %v", err)
	}
	if n := proxy.Stats().Status(http.StatusTooManyRequests); n != 3 {
		t.Errorf("%d answers 429, want 3", n)
	}
	if b := c.Budgets(); len(b) != 0 {
		t.Errorf("budgets %+v after a throttle, want none", b)
	}
}

// TestTokenBucketPaced: behind nginx's limit_req (100 r/s, burst 10, on
// manifests), 16 workers sending 400 HEADs learn the rate: every HEAD is
// answered and few are refused. Counts, not timings: the pacer's rate
// itself is checked on a simulated clock (TestPacerLearnsTokenBucket).
func TestTokenBucketPaced(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	_, proxy, img := proxied(t)
	proxy.AddTokenBucket(testreg.TokenBucket{Rate: 100, Burst: 10, Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}})
	c := newClient(t, Options{})
	ref, _ := c.Reference(proxy.Repo("p/a@" + img.Digest))
	const n = 400
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	for range DefaultConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.Head(ctx, ref); err != nil {
					t.Errorf("HEAD: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	refused := proxy.BucketRefusals()
	t.Logf("%d HEADs, %d refused by the bucket, pacing at %.1f r/s", n, refused, c.transport.host(proxy.Host()).pacer("manifests").rate())
	// Learning costs a fixed number of refusals (the workers back off
	// until the first estimate); unpaced, the workers are refused for
	// most of their tries.
	if refused > n/4 {
		t.Errorf("%d of %d HEADs refused, want at most a quarter", refused, n)
	}
	// A slow machine (-race on shared cores) may never reach the rate;
	// a client that was refused often must have learnt it.
	if r := c.transport.host(proxy.Host()).pacer("manifests").rate(); r == 0 && refused > 30 {
		t.Errorf("not pacing after a token bucket refused %d requests", refused)
	}
	if len(c.Budgets()) != 0 {
		t.Errorf("budgets %+v after throttles, want none", c.Budgets())
	}
}
