package registry

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// cacheClient is a Client over the disk cache in dir, as a fresh process
// (a later run) would build it.
func cacheClient(t *testing.T, dir string, counted ...string) *Client {
	t.Helper()
	s, err := cas.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, Options{Cache: s, PullCounted: counted})
}

func manifestGets(reg *testreg.Registry) int {
	return reg.Stats().Requests(http.MethodGet, testreg.KindManifest)
}

// A second run reads what the first kept: a tag is HEADed for its digest
// and a digest whose bytes are on disk is HEADed in its repo, with no GET.
// A tag moved between runs is seen (what a tag names is never kept), and
// a digest reaped from the repo is missing there though its bytes are on
// disk (existence is always asked of the repo).
func TestCacheAcrossRuns(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	one, two := seed(t, reg, "org/app"), seed(t, reg, "org/other")
	if err := reg.PublishSingle(ctx, "org/app", []string{"v1"}, one); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first := cacheClient(t, dir)
	tag, _ := first.Reference(reg.Repo("org/app:v1"))
	raw, desc, err := first.Manifest(ctx, tag)
	if err != nil || desc.Digest.String() != one.Digest || cas.Digest(raw) != one.Digest {
		t.Fatalf("first run: %v, %v", desc, err)
	}
	second := cacheClient(t, dir)
	reg.ResetStats()
	raw2, desc2, err := second.Manifest(ctx, tag)
	if err != nil || !bytes.Equal(raw, raw2) || desc2.Digest != desc.Digest {
		t.Fatalf("second run: %v, %v", desc2, err)
	}
	if n := manifestGets(reg); n != 0 {
		t.Errorf("second run sent %d manifest GETs for a known digest, want 0\n%s", n, reg.Stats())
	}
	if n := reg.Stats().Requests(http.MethodHead, testreg.KindManifest); n != 1 {
		t.Errorf("second run sent %d manifest HEADs, want 1 (the tag)", n)
	}

	t.Run("tag moved between runs", func(t *testing.T) {
		if err := reg.PublishSingle(ctx, "org/app", []string{"v1"}, seed(t, reg, "org/app")); err != nil {
			t.Fatal(err)
		}
		_, d, err := cacheClient(t, dir).Manifest(ctx, tag)
		if err != nil || d.Digest.String() == one.Digest {
			t.Errorf("after the tag moved: %v, %v; want the new digest", d, err)
		}
	})
	t.Run("reaped though cached", func(t *testing.T) {
		ref, _ := first.Reference(reg.Repo("org/app@" + one.Digest))
		if err := reg.Reap(ctx, "org/app", one.Digest); err != nil {
			t.Fatal(err)
		}
		_, _, err := cacheClient(t, dir).Manifest(ctx, ref)
		if !IsNotFound(err) {
			t.Errorf("reaped digest with its bytes on disk: %v, want not found", err)
		}
	})
	t.Run("no cache sends the GET again", func(t *testing.T) {
		ref, _ := first.Reference(reg.Repo("org/other@" + two.Digest))
		if _, _, err := cacheClient(t, dir).Manifest(ctx, ref); err != nil {
			t.Fatal(err)
		}
		reg.ResetStats()
		if _, _, err := newClient(t, Options{}).Manifest(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if n := manifestGets(reg); n != 1 {
			t.Errorf("without the cache: %d manifest GETs, want 1", n)
		}
	})
}

// A cache entry whose bytes were damaged is detected on read, dropped and
// read again from the registry; the answer is the registry's bytes.
func TestCorruptCacheEntryIsReadAgain(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "org/app")
	dir := t.TempDir()
	c := cacheClient(t, dir)
	ref, _ := c.Reference(reg.Repo("org/app@" + img.Digest))
	want, _, err := c.Manifest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(img.Digest, "sha256:"))
	if err := os.WriteFile(file, bytes.Replace(want, []byte("schemaVersion"), []byte("schemaVersioN"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	reg.ResetStats()
	got, _, err := cacheClient(t, dir).Manifest(ctx, ref)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after corruption: %q, %v; want the registry's bytes", got, err)
	}
	if n := manifestGets(reg); n != 1 {
		t.Errorf("%d manifest GETs after corruption, want 1 (read again)", n)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, want) {
		t.Errorf("cache entry not rewritten with the registry's bytes: %v", err)
	}
}

// A registry that counts pulls (Docker Hub) is asked only whether it holds
// a digest (HEAD); the bytes come from a registry seen holding it that
// does not count them, read once for both.
func TestCountedRegistryReadsBytesElsewhere(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	quay, hub := testreg.Start(t), testreg.Start(t)
	v1img, err := testreg.NewImage(amd64, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := quay.PutImage(ctx, "q/app", v1img)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.PutImage(ctx, "h/app", v1img); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{PullCounted: []string{hub.Host}})
	q, _ := c.Reference(quay.Repo("q/app@" + img.Digest))
	h, _ := c.Reference(hub.Repo("h/app@" + img.Digest))
	if _, err := c.Head(ctx, q); err != nil { // quay seen holding it
		t.Fatal(err)
	}
	quay.ResetStats()
	hub.ResetStats()
	raw, desc, err := c.Manifest(ctx, h)
	if err != nil || cas.Digest(raw) != img.Digest || desc.Digest.String() != img.Digest {
		t.Fatalf("Manifest at the counted registry: %v, %v", desc, err)
	}
	if n := manifestGets(hub); n != 0 {
		t.Errorf("%d manifest GETs (pulls) at the counted registry, want 0", n)
	}
	if n := hub.Stats().Requests(http.MethodHead, testreg.KindManifest); n != 1 {
		t.Errorf("%d HEADs at the counted registry, want 1: existence is asked there", n)
	}
	if n := manifestGets(quay); n != 1 {
		t.Errorf("%d manifest GETs at the free registry, want 1", n)
	}
	// Reaped from the counted registry: missing there, whatever is known.
	if err := hub.Reap(ctx, "h/app", img.Digest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Manifest(ctx, h); !IsNotFound(err) {
		t.Errorf("reaped at the counted registry: %v, want not found", err)
	}
	if c.CountsPulls(quay.Host) {
		t.Error("quay's side counted as counting pulls")
	}
}

// A registry announcing a pull limit, as Docker Hub does on every manifest
// answer (ratelimit-limit), counts pulls from its first such answer.
func TestRegistryAnnouncingPullLimitCountsPulls(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	hub := testreg.Start(t, testreg.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Ratelimit-Limit", "100;w=21600")
			next.ServeHTTP(w, r)
		})
	}))
	img := seed(t, hub, "h/app")
	c := newClient(t, Options{})
	if c.CountsPulls(hub.Host) {
		t.Fatal("counted before any answer")
	}
	ref, _ := c.Reference(hub.Repo("h/app@" + img.Digest))
	if _, err := c.Head(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if !c.CountsPulls(hub.Host) {
		t.Error("not counted after an answer carrying ratelimit-limit")
	}
	if !c.CountsPulls("registry-1.docker.io") {
		t.Error("Docker Hub's own host not counted")
	}
}

// A tag whose HEAD names a digest whose GET then answers 404 (the registry
// changed meanwhile, or misbehaves) is "could not tell", never absence:
// the tag exists.
func TestReadAfterHeadNeverAbsent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "org/app")
	if err := reg.PublishSingle(ctx, "org/app", []string{"v1"}, img); err != nil {
		t.Fatal(err)
	}
	proxy := testreg.StartFaultProxy(t, reg.Host)
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodGet}, Kinds: []testreg.Kind{testreg.KindManifest}},
		Effect: testreg.EffectStatus, Status: http.StatusNotFound})
	c := newClient(t, Options{})
	ref, _ := c.Reference(proxy.Repo("org/app:v1"))
	_, _, err := c.Manifest(ctx, ref)
	if err == nil || IsNotFound(err) {
		t.Errorf("GET 404 after HEAD 200: %v, want an error that is not absence", err)
	}
}
