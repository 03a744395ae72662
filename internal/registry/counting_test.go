package registry

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// taggedImages pushes n images of their own into repo, tagged t0..t(n-1),
// and returns their digests by tag.
func taggedImages(t *testing.T, reg *testreg.Registry, repo string, n int) map[string]string {
	t.Helper()
	ctx := testContext(t)
	out := map[string]string{}
	for i := range n {
		img := seed(t, reg, repo)
		tag := fmt.Sprintf("t%d", i)
		if err := reg.PublishSingle(ctx, repo, []string{tag}, img); err != nil {
			t.Fatal(err)
		}
		out[tag] = img.Digest
	}
	return out
}

// readTags reads every tag of tags at once through c, as an inspection
// asks for all its tags before any answer, and checks each reading.
func readTags(t *testing.T, c *Client, host, repo string, tags map[string]string) {
	t.Helper()
	ctx := testContext(t)
	var wg sync.WaitGroup
	for tag, digest := range tags {
		wg.Go(func() {
			ref, err := c.Reference(host + "/" + repo + ":" + tag)
			if err != nil {
				t.Error(err)
				return
			}
			raw, desc, err := c.Manifest(ctx, ref)
			if err != nil || desc.Digest.String() != digest || cas.Digest(raw) != digest {
				t.Errorf("%s: %v, %v; want %s", tag, desc, err, digest)
			}
		})
	}
	wg.Wait()
}

// On a registry that counts no pulls (no rate-limit headers, not Docker
// Hub), a tag whose bytes are wanted is read with one GET: a HEAD first
// would be a second request for nothing. Before the registry has answered
// a manifest nothing says it counts none, so the first read HEADs, and the
// reads asked at the same time wait for that answer rather than HEAD too.
func TestFreeRegistryReadsTagsWithOneGet(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	proxy := testreg.StartFaultProxy(t, reg.Host)
	tags := taggedImages(t, reg, "q/app", 8)
	c := newClient(t, Options{})

	readTags(t, c, proxy.Host(), "q/app", tags)
	st := proxy.Stats()
	heads, gets := st.Requests(http.MethodHead, testreg.KindManifest), st.Requests(http.MethodGet, testreg.KindManifest)
	if heads != 1 || gets != len(tags) {
		t.Errorf("%d tags read at once: %d HEADs, %d GETs; want 1 HEAD (learning the registry) and %d GETs\n%s", len(tags), heads, gets, len(tags), st)
	}
	if c.CountsPulls(proxy.Host()) {
		t.Error("a registry without rate-limit headers counted as counting pulls")
	}

	// Known now: only GETs, and absence is still absence.
	more := taggedImages(t, reg, "q/more", 4)
	proxy.ResetStats()
	readTags(t, c, proxy.Host(), "q/more", more)
	absent, _ := c.Reference(proxy.Repo("q/more:gone"))
	if _, _, err := c.Manifest(ctx, absent); !IsNotFound(err) {
		cls, text := Classify(err)
		t.Errorf("GET of an absent tag: %v %q, want not-found", cls, text)
	}
	st = proxy.Stats()
	if heads, gets := st.Requests(http.MethodHead, testreg.KindManifest), st.Requests(http.MethodGet, testreg.KindManifest); heads != 0 || gets != len(more)+1 {
		t.Errorf("once known: %d HEADs, %d GETs; want 0 and %d\n%s", heads, gets, len(more)+1, st)
	}
}

// On a registry that counts pulls as Docker Hub does (it says so with
// ratelimit headers), every tag is HEADed first: a tag naming bytes already
// known costs no pull, however many times it is read.
func TestCountingRegistryHeadsTagsFirst(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t)
	proxy := testreg.StartFaultProxy(t, reg.Host)
	tags := taggedImages(t, reg, "h/app", 8)
	proxy.SetPullQuota(testreg.DockerHubQuota(100))
	c := newClient(t, Options{})

	readTags(t, c, proxy.Host(), "h/app", tags)
	if pulls, _ := proxy.QuotaCounts(); pulls != len(tags) {
		t.Errorf("first read of %d tags naming unknown bytes: %d pulls, want %d", len(tags), pulls, len(tags))
	}
	if heads := proxy.Stats().Requests(http.MethodHead, testreg.KindManifest); heads != len(tags) {
		t.Errorf("%d HEADs, want %d: each tag asked with a HEAD first", heads, len(tags))
	}
	if !c.CountsPulls(proxy.Host()) {
		t.Fatal("a registry announcing a pull limit not counted as counting pulls")
	}

	// Read again (what a tag names is always asked afresh): HEADs only.
	proxy.ResetStats()
	readTags(t, c, proxy.Host(), "h/app", tags)
	if pulls, _ := proxy.QuotaCounts(); pulls != len(tags) {
		t.Errorf("second read of the same tags: %d pulls in all, want still %d", pulls, len(tags))
	}
	if st := proxy.Stats(); st.Requests(http.MethodHead, testreg.KindManifest) != len(tags) || st.Requests(http.MethodGet, testreg.KindManifest) != 0 {
		t.Errorf("second read: want %d HEADs and no GET\n%s", len(tags), st)
	}
}
