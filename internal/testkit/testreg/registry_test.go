package testreg

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, IgnoreRegistryGoroutines) }

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

// pushPair pushes an amd64 and an arm64 image into repo by digest.
func pushPair(t *testing.T, r *Registry, repo string) (Image, Image) {
	t.Helper()
	ctx := context.Background()
	a, err := r.PushImage(ctx, repo, amd64, ImageOptions{})
	if err != nil {
		t.Fatalf("pushing amd64: %v", err)
	}
	b, err := r.PushImage(ctx, repo, arm64, ImageOptions{Layers: 1, LayerSize: 512})
	if err != nil {
		t.Fatalf("pushing arm64: %v", err)
	}
	return a, b
}

func mustExist(t *testing.T, want bool, got bool, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s: exists=%v, want %v", what, got, want)
	}
}

func TestPushTagPublishRoundTrip(t *testing.T) {
	t.Parallel()
	r := Start(t)
	ctx := context.Background()
	a, b := pushPair(t, r, "go-skynet/local-ai-backends")

	if a.MediaType != MediaTypeDockerManifest || a.Platform.Architecture != "amd64" || len(a.Layers) != 2 || b.Platform.Variant != "v8" {
		t.Fatalf("unexpected images: %+v / %+v", a, b)
	}
	ok, err := r.ManifestExists(ctx, "go-skynet/local-ai-backends", a.Digest)
	mustExist(t, true, ok, err, "child by digest")
	tags, err := r.Tags(ctx, "go-skynet/local-ai-backends")
	if err != nil || len(tags) != 0 {
		t.Fatalf("pushed by digest only, want no tags; got %v, %v", tags, err)
	}

	// A keepalive anchor in another repo of the same registry: blobs
	// cross-mounted, the manifest put under the anchor tag.
	anchor := "keepalive-1-cpu-amd64"
	if err := r.Mount(ctx, "go-skynet/local-ai-backends", "go-skynet/ci-cache", a.Config); err != nil {
		t.Fatal(err)
	}
	for _, l := range a.Layers {
		if err := r.Mount(ctx, "go-skynet/local-ai-backends", "go-skynet/ci-cache", l); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.PublishSingle(ctx, "go-skynet/ci-cache", []string{anchor}, a); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Resolve(ctx, "go-skynet/ci-cache", anchor); err != nil || got != a.Digest {
		t.Fatalf("Resolve anchor = %q, %v; want %s", got, err, a.Digest)
	}
	if err := r.Tag(ctx, "go-skynet/local-ai-backends", "single-amd64", a.Digest); err != nil {
		t.Fatal(err)
	}

	tagsWanted := []string{"v4.2.2-cpu", "latest-cpu"}
	list, err := r.PublishList(ctx, "go-skynet/local-ai-backends", tagsWanted, a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tagsWanted {
		if got, err := r.Resolve(ctx, "go-skynet/local-ai-backends", tag); err != nil || got != list {
			t.Fatalf("Resolve %s = %q, %v; want %s", tag, got, err, list)
		}
	}
	tags, err = r.Tags(ctx, "go-skynet/local-ai-backends")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if want := []string{"latest-cpu", "single-amd64", "v4.2.2-cpu"}; !slices.Equal(tags, want) {
		t.Fatalf("tags = %v, want %v", tags, want)
	}
	raw, mt, err := r.Manifest(ctx, "go-skynet/local-ai-backends", "v4.2.2-cpu")
	if err != nil || mt != MediaTypeDockerList || !strings.Contains(string(raw), b.Digest) {
		t.Fatalf("list = %s (%s), %v", raw, mt, err)
	}

	// Quay's per-repo GC: gone here, alive in the anchor repo, blobs kept.
	if err := r.Reap(ctx, "go-skynet/local-ai-backends", a.Digest); err != nil {
		t.Fatal(err)
	}
	ok, err = r.ManifestExists(ctx, "go-skynet/local-ai-backends", a.Digest)
	mustExist(t, false, ok, err, "reaped child")
	ok, err = r.ManifestExists(ctx, "go-skynet/ci-cache", a.Digest)
	mustExist(t, true, ok, err, "anchored child")
	ok, err = r.BlobExists(ctx, "go-skynet/local-ai-backends", a.Layers[0])
	mustExist(t, true, ok, err, "layer after reap")
}

func TestPublishListRefusedWithoutChild(t *testing.T) {
	t.Parallel()
	r := Start(t)
	ctx := context.Background()
	a, b := pushPair(t, r, "src")
	if _, err := r.PublishList(ctx, "dst", []string{"v1"}, a, b); err == nil {
		t.Fatal("a list whose children are absent from the repo must be refused")
	}
	if ok, err := r.ManifestExists(ctx, "dst", "v1"); err != nil || ok {
		t.Fatalf("refused list exists=%v, %v", ok, err)
	}
}

func TestDropBlobAndMount(t *testing.T) {
	t.Parallel()
	r := Start(t)
	ctx := context.Background()
	a, _ := pushPair(t, r, "one")
	if err := r.Mount(ctx, "one", "two", a.Layers[0]); err != nil {
		t.Fatalf("mount within a registry: %v", err)
	}
	ok, err := r.BlobExists(ctx, "two", a.Layers[0])
	mustExist(t, true, ok, err, "mounted blob")
	if err := r.Mount(ctx, "one", "two", "sha256:"+strings.Repeat("0", 64)); err == nil {
		t.Fatal("mounting an unknown blob must not report success")
	}
	if err := r.DropBlob(ctx, "one", a.Layers[0]); err != nil {
		t.Fatal(err)
	}
	ok, err = r.BlobExists(ctx, "one", a.Layers[0])
	mustExist(t, false, ok, err, "dropped blob")
	ok, err = r.BlobExists(ctx, "two", a.Layers[0])
	mustExist(t, true, ok, err, "blob in the other repo")
}

func TestSameImageInTwoRegistries(t *testing.T) {
	t.Parallel()
	quay, hub := Start(t), Start(t, WithAuth("ci", "hunter2"))
	ctx := context.Background()
	img, err := NewImage(amd64, ImageOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	q, err := quay.PutImage(ctx, "go-skynet/local-ai-backends", img)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.PutImage(ctx, "localai/localai-backends", img)
	if err != nil {
		t.Fatal(err)
	}
	if q.Digest != h.Digest {
		t.Fatalf("digests differ: %s vs %s", q.Digest, h.Digest)
	}
	again, err := NewImage(amd64, ImageOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewImage(arm64, ImageOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := again.Digest()
	d2, _ := other.Digest()
	if d1.String() != q.Digest || d2.String() == q.Digest {
		t.Fatalf("seeded digests: same platform %s, other platform %s, want %s and something else", d1, d2, q.Digest)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	r := Start(t, WithAuth("ci", "hunter2"))
	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{"anonymous", "", "", http.StatusUnauthorized},
		{"wrong password", "ci", "nope", http.StatusUnauthorized},
		{"credentials", "ci", "hunter2", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, r.URL()+"/v2/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp := doPlain(t, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("challenge %q, want Basic", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if _, err := r.PushImage(context.Background(), "private", amd64, ImageOptions{}); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	t.Parallel()
	r := Start(t)
	ctx := context.Background()
	a, b := pushPair(t, r, "repo")
	before, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Reads write nothing.
	if _, _, err := r.Manifest(ctx, "repo", a.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Tags(ctx, "repo"); err != nil {
		t.Fatal(err)
	}
	after, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(before, after) {
		t.Fatal("reads changed the storage snapshot")
	}
	if _, err := r.PublishList(ctx, "repo", []string{"v1"}, a, b); err != nil {
		t.Fatal(err)
	}
	written, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if maps.Equal(before, written) {
		t.Fatal("publishing a list did not change the snapshot")
	}
}

func TestRegistryStats(t *testing.T) {
	t.Parallel()
	r := Start(t)
	ctx := context.Background()
	a, _ := pushPair(t, r, "repo")
	r.ResetStats()
	if r.Stats().Total() != 0 {
		t.Fatalf("after reset: %s", r.Stats())
	}
	if _, _, err := r.Manifest(ctx, "repo", a.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := r.BlobExists(ctx, "repo", a.Config); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PushImage(ctx, "repo", amd64, ImageOptions{Layers: 1, LayerSize: 4096}); err != nil {
		t.Fatal(err)
	}
	s := r.Stats()
	checks := []struct {
		name string
		got  int64
		ok   func(int64) bool
	}{
		{"GET manifest", int64(s.Requests(http.MethodGet, KindManifest)), func(n int64) bool { return n == 1 }},
		{"manifest bytes down", s.Downloaded(http.MethodGet, KindManifest), func(n int64) bool { return n == a.Size }},
		{"PUT manifest", int64(s.Requests(http.MethodPut, KindManifest)), func(n int64) bool { return n == 1 }},
		{"uploads moved the layer", s.Uploaded("", KindUpload), func(n int64) bool { return n > 4096 }},
		{"HEAD blob", int64(s.Requests(http.MethodHead, KindBlob)), func(n int64) bool { return n >= 1 }},
		{"no catalog", int64(s.Requests("", KindCatalog)), func(n int64) bool { return n == 0 }},
		{"status 201", int64(s.Status(http.StatusCreated)), func(n int64) bool { return n >= 3 }},
	}
	for _, c := range checks {
		if !c.ok(c.got) {
			t.Errorf("%s = %d\n%s", c.name, c.got, s)
		}
	}
	if !strings.Contains(s.String(), "manifest") {
		t.Errorf("String() lacks kinds:\n%s", s)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want Kind
	}{
		{"/v2/", KindPing},
		{"/v2", KindPing},
		{"/v2/_catalog", KindCatalog},
		{"/v2/a/b/tags/list", KindTags},
		{"/v2/a/manifests/sha256:abc", KindManifest},
		{"/v2/go-skynet/blobs/uploads/", KindUpload},
		{"/v2/go-skynet/blobs/uploads/1234-uuid", KindUpload},
		{"/v2/a/b/c/blobs/sha256:abc", KindBlob},
		{"/token", KindToken},
		{"/favicon.ico", KindOther},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := Classify(tc.path); got != tc.want {
				t.Fatalf("Classify(%q) = %s, want %s", tc.path, got, tc.want)
			}
		})
	}
}

func doPlain(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// WithTagPage serves at most n tags a page, asked for more or not asking,
// and a client following the Link header gets them all.
func TestTagPages(t *testing.T) {
	ctx := context.Background()
	r := Start(t, WithTagPage(2))
	img, err := r.PushImage(ctx, "a/b", amd64, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"t1", "t2", "t3", "t4", "t5"} {
		if err := r.Tag(ctx, "a/b", tag, img.Digest); err != nil {
			t.Fatal(err)
		}
	}
	first, err := r.Tags(ctx, "a/b")
	if err != nil || len(first) != 2 {
		t.Fatalf("first page: %v (%v), want 2 tags", first, err)
	}
	r.ResetStats()
	repo, err := name.NewRepository(r.Repo("a/b"), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	all, err := remote.List(repo, remote.WithContext(ctx))
	if err != nil || len(all) != 5 {
		t.Fatalf("following the pages: %v (%v), want 5 tags", all, err)
	}
	if pages := r.Stats().Requests(http.MethodGet, KindTags); pages != 3 {
		t.Errorf("%d pages for 5 tags, want 3", pages)
	}
}
