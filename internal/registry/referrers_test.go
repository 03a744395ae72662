package registry

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/testreg"
	"github.com/go-skynet/remerge/internal/tools"
)

// cosign's artifact type for a signature stored as a referrer.
const cosignSig = "application/vnd.dev.cosign.artifact.sig.v1+json"

// A registry serving the OCI 1.1 referrers API (go-containerregistry's,
// the only one at hand that does; distribution v3 does not) answers
// Referrers from the API: the sha256-<hex> fallback tag is deleted first
// (if cosign wrote one), so only the API can name the signature.
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
