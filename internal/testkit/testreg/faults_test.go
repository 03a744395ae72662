package testreg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// plainClient is a fresh net/http client whose connections close with the
// test, so goleak sees nothing left.
func plainClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

func get(t *testing.T, c *http.Client, method, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

func statuses(t *testing.T, c *http.Client, method, url string, n int) []int {
	t.Helper()
	var out []int
	for range n {
		resp, err := get(t, c, method, url)
		if err != nil {
			t.Fatalf("request %d: %v", len(out), err)
		}
		out = append(out, resp.StatusCode)
	}
	return out
}

func TestFaultStatuses(t *testing.T) {
	t.Parallel()
	r := Start(t)
	tests := []struct {
		name  string
		fault Fault
		want  string
	}{
		{"burst of 502", Fault{Effect: EffectStatus, Status: 502, Times: 2}, "502 502 200 200"},
		{"default 503", Fault{Effect: EffectStatus, Times: 1}, "503 200 200 200"},
		{"throttle", Fault{Effect: EffectThrottle, RetryAfter: time.Second, Times: 3}, "429 429 429 200"},
		{"other kinds untouched", Fault{Effect: EffectStatus, Match: Match{Kinds: []Kind{KindBlob}}}, "200 200 200 200"},
		{"other methods untouched", Fault{Effect: EffectStatus, Match: Match{Methods: []string{"PUT"}}}, "200 200 200 200"},
		{"for a span", Fault{Effect: EffectStatus, Status: 500, For: time.Hour}, "500 500 500 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := StartFaultProxy(t, r.Host)
			p.Add(tc.fault)
			got := statuses(t, plainClient(t, 0), http.MethodGet, "http://"+p.Host()+"/v2/", 4)
			if s := fmtInts(got); s != tc.want {
				t.Fatalf("statuses %s, want %s", s, tc.want)
			}
			if n := p.Stats().Requests(http.MethodGet, KindPing); n != 4 {
				t.Fatalf("proxy counted %d pings, want 4", n)
			}
		})
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func TestRetryAfterForms(t *testing.T) {
	t.Parallel()
	r := Start(t)
	tests := []struct {
		name  string
		date  bool
		check func(t *testing.T, h string, a Arrival)
	}{
		{"seconds", false, func(t *testing.T, h string, a Arrival) {
			if h != "3" {
				t.Fatalf("Retry-After %q, want 3", h)
			}
			if a.RetryAt.Sub(a.At) != 3*time.Second {
				t.Fatalf("RetryAt %v after arrival, want 3s", a.RetryAt.Sub(a.At))
			}
		}},
		{"http-date", true, func(t *testing.T, h string, a Arrival) {
			at, err := http.ParseTime(h)
			if err != nil {
				t.Fatalf("Retry-After %q is not an HTTP-date: %v", h, err)
			}
			if !at.Equal(a.RetryAt) || at.Before(a.At.Add(3*time.Second)) {
				t.Fatalf("Retry-After %v, RetryAt %v, arrival %v", at, a.RetryAt, a.At)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := StartFaultProxy(t, r.Host)
			p.Add(Fault{Effect: EffectThrottle, RetryAfter: 3 * time.Second, RetryAfterDate: tc.date, Times: 1})
			resp, err := get(t, plainClient(t, 0), http.MethodGet, "http://"+p.Host()+"/v2/")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status %d, want 429", resp.StatusCode)
			}
			arr := p.Arrivals()
			if len(arr) != 1 || arr[0].Effect != EffectThrottle || arr[0].Kind != KindPing {
				t.Fatalf("arrivals %+v", arr)
			}
			tc.check(t, resp.Header.Get("Retry-After"), arr[0])
		})
	}
}

func TestFaultRateIsSeeded(t *testing.T) {
	t.Parallel()
	r := Start(t)
	run := func(seed int64) string {
		p := StartFaultProxy(t, r.Host, WithSeed(seed))
		p.Add(Fault{Effect: EffectStatus, Status: 500, Rate: 0.5})
		return fmtInts(statuses(t, plainClient(t, 0), http.MethodGet, "http://"+p.Host()+"/v2/", 24))
	}
	a, b := run(42), run(42)
	if a != b {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "500") || !strings.Contains(a, "200") {
		t.Fatalf("rate 0.5 over 24 requests gave %s", a)
	}
}

func TestFaultResetStallEndless(t *testing.T) {
	t.Parallel()
	r := Start(t)
	p := StartFaultProxy(t, r.Host)
	manifests := Match{Kinds: []Kind{KindManifest}, Methods: []string{"GET"}}
	p.Add(Fault{Effect: EffectReset, Match: Match{PathContains: "/reset/"}})
	p.Add(Fault{Effect: EffectStall, Match: Match{PathContains: "/stall/"}})
	p.Add(Fault{Effect: EffectEndless, Match: manifests})
	c := plainClient(t, 0)

	t.Run("reset", func(t *testing.T) {
		_, err := get(t, c, http.MethodGet, "http://"+p.Host()+"/v2/reset/tags/list")
		if err == nil {
			t.Fatal("a reset connection gave a response")
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
			t.Fatalf("error %v, want a reset", err)
		}
	})
	t.Run("stall", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+p.Host()+"/v2/stall/blobs/sha256:00", nil)
		if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stalled request ended with %v, want the client's deadline", err)
		}
	})
	t.Run("endless", func(t *testing.T) {
		resp, err := c.Get("http://" + p.Host() + "/v2/repo/manifests/latest")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		const want = 4 << 20
		n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, want))
		if err != nil || n != want || resp.StatusCode != http.StatusOK {
			t.Fatalf("read %d bytes (%v), status %d; want %d of an endless 200", n, err, resp.StatusCode, want)
		}
	})
	t.Run("latency", func(t *testing.T) {
		p.SetLatency(time.Hour)
		defer p.SetLatency(0)
		slow := plainClient(t, 100*time.Millisecond)
		if _, err := get(t, slow, http.MethodGet, "http://"+p.Host()+"/v2/"); err == nil {
			t.Fatal("an hour of latency did not delay the request")
		}
	})
	var effects []string
	for _, a := range p.Arrivals() {
		effects = append(effects, string(a.Effect))
	}
	if got := strings.Join(effects, ","); got != "reset,stall,endless," {
		t.Fatalf("arrival effects %q", got)
	}
}

func TestFaultProxyCloseEndsStall(t *testing.T) {
	t.Parallel()
	r := Start(t)
	p, err := NewFaultProxy(r.Host)
	if err != nil {
		t.Fatal(err)
	}
	p.Add(Fault{Effect: EffectStall})
	done := make(chan error, 1)
	c := plainClient(t, 0)
	go func() {
		_, err := get(t, c, http.MethodGet, "http://"+p.Host()+"/v2/")
		done <- err
	}()
	for len(p.Arrivals()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("a stalled request got an answer after Close")
	}
}

// TestPushThroughProxy checks that uploads (whose Location the registry
// builds from the Host header) keep going through the proxy, and that a
// fault aimed at manifest PUTs refuses the push.
func TestPushThroughProxy(t *testing.T) {
	t.Parallel()
	r := Start(t, WithAuth("ci", "pw"))
	p := StartFaultProxy(t, r.Host)
	img, err := NewImage(amd64, ImageOptions{Layers: 1, LayerSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(p.Repo("through/proxy") + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	push := func() error {
		return remote.Write(ref, img, remote.WithAuth(r.Authenticator()), remote.WithTransport(tr), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	}

	p.Add(Fault{Effect: EffectStatus, Status: 500, Match: Match{Methods: []string{"PUT"}, Kinds: []Kind{KindManifest}}})
	if err := push(); err == nil {
		t.Fatal("push succeeded although manifest PUTs fail")
	}
	p.Clear()
	if err := push(); err != nil {
		t.Fatalf("push through proxy: %v", err)
	}
	ok, err := r.ManifestExists(context.Background(), "through/proxy", d.String())
	mustExist(t, true, ok, err, "pushed manifest")
	s := p.Stats()
	if s.Requests("", KindUpload) == 0 || s.Uploaded("", KindUpload) < 2048 {
		t.Fatalf("uploads did not go through the proxy:\n%s", s)
	}
	if s.Status(http.StatusInternalServerError) == 0 {
		t.Fatalf("no 500 counted:\n%s", s)
	}
}

// TestQuayThrottle: a rate of the requests get 429, text/html, the nginx
// page and no Retry-After; which ones is fixed by the seed and the
// requests alone, not by their order.
func TestQuayThrottle(t *testing.T) {
	t.Parallel()
	r := Start(t)
	paths := make([]string, 40)
	for i := range paths {
		paths[i] = fmt.Sprintf("/v2/r/manifests/t%d", i)
	}
	run := func(seed int64, reverse bool) map[string]bool {
		p := StartFaultProxy(t, r.Host, WithSeed(seed))
		p.Add(QuayThrottle(0.3))
		c := plainClient(t, 0)
		order := slices.Clone(paths)
		if reverse {
			slices.Reverse(order)
		}
		throttled := map[string]bool{}
		for _, path := range order {
			resp, err := c.Get("http://" + p.Host() + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				continue
			}
			throttled[path] = true
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q, want text/html", ct)
			}
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After %q, want none", ra)
			}
			if string(body) != ThrottlePage {
				t.Errorf("body %q, want the nginx page", body)
			}
		}
		if n := p.Stats().Status(http.StatusTooManyRequests); n != len(throttled) {
			t.Errorf("proxy counted %d 429s, clients saw %d", n, len(throttled))
		}
		return throttled
	}
	a, b, other := run(7, false), run(7, true), run(8, false)
	if len(a) < 4 || len(a) > 20 {
		t.Fatalf("rate 0.3 over 40 requests throttled %d", len(a))
	}
	if !maps.Equal(a, b) {
		t.Errorf("same seed, other order, other throttles:\n%v\n%v", a, b)
	}
	if maps.Equal(a, other) {
		t.Errorf("seeds 7 and 8 throttled the same requests: %v", a)
	}
}

// TestPeakInFlight: the proxy's (and the registry's) peak counts requests
// being answered at once, bodies still streaming included.
func TestPeakInFlight(t *testing.T) {
	t.Parallel()
	r := Start(t)
	p := StartFaultProxy(t, r.Host)
	c := plainClient(t, 0)
	url := "http://" + p.Host() + "/v2/"

	statuses(t, c, http.MethodGet, url, 5)
	if got := p.Stats().PeakInFlight(); got != 1 {
		t.Fatalf("one at a time: peak %d, want 1", got)
	}

	p.ResetStats()
	p.SetLatency(200 * time.Millisecond)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { statuses(t, c, http.MethodHead, url, 1) })
	}
	wg.Wait()
	p.SetLatency(0)
	if got := p.Stats().PeakInFlight(); got != 4 {
		t.Fatalf("4 held at once: peak %d, want 4", got)
	}

	// Bodies the client has not read: the answers are not finished, so
	// they stay in flight after their headers came back.
	p.ResetStats()
	p.Add(Fault{Effect: EffectEndless, Match: Match{Kinds: []Kind{KindManifest}}})
	var open []io.Closer
	for range 3 {
		resp, err := c.Get("http://" + p.Host() + "/v2/r/manifests/endless")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, resp.Body)
	}
	statuses(t, c, http.MethodGet, url, 1)
	if got := p.Stats().PeakInFlight(); got != 4 {
		t.Errorf("3 open bodies and a ping: peak %d, want 4", got)
	}
	for _, b := range open {
		b.Close()
	}
}
