package testreg

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestPullQuota: HEADs cost no pull, GETs do, every manifest answer says
// the budget; once spent, GET and HEAD alike are refused as Docker Hub
// refuses, and the refusals are counted.
func TestPullQuota(t *testing.T) {
	t.Parallel()
	r := Start(t)
	img, err := r.PushImage(context.Background(), "p/a", v1.Platform{OS: "linux", Architecture: "amd64"}, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := StartFaultProxy(t, r.Host)
	p.SetPullQuota(DockerHubQuota(2))
	c := plainClient(t, 5*time.Second)
	url := "http://" + p.Host() + "/v2/p/a/manifests/" + img.Digest
	var remaining []string
	for _, m := range []string{"HEAD", "HEAD", "GET", "HEAD", "GET", "HEAD", "GET"} {
		resp, err := get(t, c, m, url)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Ratelimit-Limit") != "100;w=21600" || resp.Header.Get("Docker-Ratelimit-Source") != "127.0.0.1" {
			t.Errorf("%s: headers %v", m, resp.Header)
		}
		remaining = append(remaining, m+" "+resp.Status[:3]+" "+resp.Header.Get("Ratelimit-Remaining"))
	}
	want := "HEAD 200 2;w=21600, HEAD 200 2;w=21600, GET 200 1;w=21600, HEAD 200 1;w=21600, GET 200 0;w=21600, HEAD 429 0;w=21600, GET 429 0;w=21600"
	if got := strings.Join(remaining, ", "); got != want {
		t.Errorf("answers:\n got %s\nwant %s", got, want)
	}
	pulls, refused := p.QuotaCounts()
	if pulls != 2 || refused != 2 || p.AfterQuotaRefusal() != 1 {
		t.Errorf("pulls %d, refused %d, after the first refusal %d; want 2, 2, 1", pulls, refused, p.AfterQuotaRefusal())
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != QuotaBody {
		t.Errorf("refusal body %q, want Docker Hub's", body)
	}
}

// TestTokenBucket: a bucket of 3 that refills slower than the test runs
// lets 3 manifest requests through and refuses the rest with nginx's page
// and no Retry-After; other requests are not counted against it.
func TestTokenBucket(t *testing.T) {
	t.Parallel()
	r := Start(t)
	img, err := r.PushImage(context.Background(), "p/a", v1.Platform{OS: "linux", Architecture: "amd64"}, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := StartFaultProxy(t, r.Host)
	p.AddTokenBucket(TokenBucket{Rate: 0.001, Burst: 3, Match: Match{Kinds: []Kind{KindManifest}}})
	c := plainClient(t, 5*time.Second)
	url := "http://" + p.Host() + "/v2/p/a/manifests/" + img.Digest
	if got := fmtInts(statuses(t, c, "HEAD", url, 5)); got != "200 200 200 429 429" {
		t.Errorf("statuses %s, want 3 through then refused", got)
	}
	if got := fmtInts(statuses(t, c, "GET", "http://"+p.Host()+"/v2/", 3)); got != "200 200 200" {
		t.Errorf("pings %s: the bucket is for manifests only", got)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || string(body) != ThrottlePage || resp.Header.Get("Retry-After") != "" {
		t.Errorf("refusal: %d, Retry-After %q, body %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := p.BucketRefusals(); n != 3 {
		t.Errorf("%d refusals counted, want 3", n)
	}
	p.ClearLimits()
	if got := fmtInts(statuses(t, c, "HEAD", url, 2)); got != "200 200" {
		t.Errorf("after ClearLimits: %s", got)
	}
}
