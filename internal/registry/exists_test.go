package registry

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// A repo that does not exist answers NAME_UNKNOWN, which is kept apart
// from a manifest that is not in a repo that does (issue 18, item 12: on
// 4da49be both were NotFound), and a 404 that is some other server's page
// is an error naming the host, never "not found".
func TestRepoUnknownIsNotManifestNotFound(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "org/backends")
	if err := reg.PublishSingle(ctx, "org/backends", []string{"v1-cpu"}, img); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Insecure: []string{reg.Host}})

	repo, err := c.Repository(reg.Repo("org/backends"))
	if err != nil {
		t.Fatal(err)
	}
	if holds, err := c.HoldsTags(ctx, repo); err != nil || !holds {
		t.Errorf("existing repo: holds %v, err %v", holds, err)
	}
	typo, err := c.Repository(reg.Repo("org/backend"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.HoldsTags(ctx, typo)
	if !IsRepoUnknown(err) || IsNotFound(err) {
		cls, msg := Classify(err)
		t.Errorf("tag list of a repo that does not exist: %v %q, want repo-unknown", cls, msg)
	}
	_, err = c.Head(ctx, repo.Digest("sha256:"+strings.Repeat("ab", 32)))
	if !IsNotFound(err) || IsRepoUnknown(err) {
		cls, msg := Classify(err)
		t.Errorf("HEAD of a digest not in an existing repo: %v %q, want not-found", cls, msg)
	}

	proxy := testreg.StartFaultProxy(t, reg.Host)
	proxy.Add(testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusNotFound, Body: "<html><body><h1>404 Not Found</h1></body></html>"})
	pc := newClient(t, Options{Insecure: []string{proxy.Host()}, Retries: -1})
	ref, err := pc.Reference(proxy.Repo("org/backends") + "@" + img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = pc.Manifest(ctx, ref)
	cls, msg := Classify(err)
	if cls == NotFound || cls == RepoUnknown || !strings.Contains(msg, proxy.Host()) {
		t.Errorf("an HTML 404: %v %q, want an error naming %s", cls, msg, proxy.Host())
	}
}
