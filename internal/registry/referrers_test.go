package registry

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// cosign's artifact type for a signature stored as a referrer.
const cosignSig = "application/vnd.dev.cosign.artifact.sig.v1+json"

// A registry serving the OCI 1.1 referrers API (go-containerregistry's,
// the only one at hand that does; distribution v3 does not) answers
// Referrers from the API: the sha256-<hex> fallback tag is deleted first
// (if cosign wrote one), so only the API can name the signature. The
// first lookup learns the host serves the API; were that remembered as
// "no API", the second would read the deleted tag and find nothing.
func TestReferrersAPI(t *testing.T) {
	t.Parallel()
	kit := tools.NewCosignKit(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := testContext(t)
	img, err := testreg.NewImage(amd64, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/x/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	dg, _ := img.Digest()
	subject := host + "/x/app@" + dg.String()
	c := newClient(t, Options{})
	d, err := name.NewDigest(subject, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Referrers(ctx, d); err != nil || len(got) != 0 {
		t.Fatalf("before signing: %v, %v; want no referrer, no error", got, err)
	}
	kit.Sign(t, subject, false, true)
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+"/v2/x/app/manifests/"+strings.Replace(dg.String(), ":", "-", 1), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleting the referrers tag: %s", resp.Status)
	}
	got, err := c.Referrers(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].ArtifactType) != cosignSig {
		t.Fatalf("referrers %+v, want cosign's signature", got)
	}
	if out, err := kit.Verify(subject, true); err != nil {
		t.Fatalf("cosign verify: %v\n%s", err, out)
	}
}

// fakeDigest is a digest no manifest has: a subject nothing refers to.
func fakeDigest(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }

// On distribution (no referrers API, it answers 404 "404 page not found")
// the first lookup learns that from the API's answer and the rest of the
// client's lookups on that host ask for the referrers tag alone: N lookups
// cost N+1 requests, counted at the registry, even when they start at
// once. A signature cosign writes there in oci-1-1 mode (the referrers
// tag) is still found, after the host is known to lack the API.
func TestReferrersRemembersNoAPI(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "x/app")
	c := newClient(t, Options{})
	reg.ResetStats()
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := name.NewDigest(reg.Repo("x/app")+"@"+fakeDigest(i), name.Insecure)
			if err != nil {
				errs[i] = err
				return
			}
			got, err := c.Referrers(ctx, d)
			if err == nil && len(got) != 0 {
				err = fmt.Errorf("referrers %+v, want none", got)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	st := reg.Stats()
	api := st.Requests(http.MethodGet, testreg.KindOther)
	tags := st.Requests("", testreg.KindManifest)
	if api != 1 || tags != n {
		t.Errorf("%d referrers API requests and %d referrers tag requests for %d lookups, want 1 and %d\n%s", api, tags, n, n, st)
	}
	// The tag is HEADed (Docker Hub counts GETs as pulls, not HEADs);
	// only go-containerregistry's own fall-back on the probing lookup
	// GETs it.
	if gets := st.Requests(http.MethodGet, testreg.KindManifest); gets > 1 {
		t.Errorf("%d referrers tag GETs for %d lookups, want at most 1 (the probe's)\n%s", gets, n, st)
	}
	if total := st.Total() - st.Requests("", testreg.KindPing); total != n+1 {
		t.Errorf("%d requests (pings aside) for %d lookups, want %d\n%s", total, n, n+1, st)
	}

	kit := tools.NewCosignKit(t)
	subject := reg.Repo("x/app") + "@" + img.Digest
	kit.Sign(t, subject, false, true)
	d, err := name.NewDigest(subject, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	reg.ResetStats()
	got, err := c.Referrers(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].ArtifactType) != cosignSig {
		t.Fatalf("referrers %+v, want cosign's signature from the referrers tag", got)
	}
	if api := reg.Stats().Requests("", testreg.KindOther); api != 0 {
		t.Errorf("%d referrers API requests after the host was known to lack it, want 0", api)
	}
}

// An answer that cannot tell whether the host serves the API (a 502 that
// outlasts the retries) is an error, and is not remembered: the next
// lookup asks the API again, and learns from a real answer.
func TestReferrersCouldNotTellIsNotRemembered(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	seed(t, reg, "x/app")
	proxy := testreg.StartFaultProxy(t, reg.Host)
	c := newClient(t, Options{Retries: -1})
	d, err := name.NewDigest(proxy.Repo("x/app")+"@"+fakeDigest(0), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "/referrers/"}, Effect: testreg.EffectStatus, Status: http.StatusBadGateway})
	if got, err := c.Referrers(ctx, d); err == nil {
		t.Fatalf("referrers through a 502: %v, no error; want one (could not tell)", got)
	}
	proxy.Clear()
	for i := range 3 {
		if got, err := c.Referrers(ctx, d); err != nil || len(got) != 0 {
			t.Fatalf("lookup %d after the 502: %v, %v; want none, no error", i, got, err)
		}
	}
	// The 502, the lookup that learnt, and none after.
	if api := proxy.Stats().Requests(http.MethodGet, testreg.KindOther); api != 2 {
		t.Errorf("%d referrers API requests, want 2 (the 502, then one that learns)\n%s", api, proxy.Stats())
	}
}
