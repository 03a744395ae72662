package published_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/published"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestSharedListingIsNotQueuedBehindBackends: a target's tag listing is
// shared by every backend that waits on it, so it goes ahead of backend
// work whichever backend asked first. With the one slot taken, a listing
// asked by backend 9 reaches the registry before a request of backend 1
// queued with it.
func TestSharedListingIsNotQueuedBehindBackends(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := testreg.Start(t)
	img, err := reg.PushImage(ctx, "p/a", v1.Platform{OS: "linux", Architecture: "amd64"}, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Tag(ctx, "p/a", "v1", img.Digest); err != nil {
		t.Fatal(err)
	}
	proxy := testreg.StartFaultProxy(t, reg.Host)
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain(), Concurrency: 1})
	t.Cleanup(c.Close)
	repo, err := c.Repository(proxy.Repo("p/a"))
	if err != nil {
		t.Fatal(err)
	}
	head := func(ctx context.Context, tag string) {
		if _, err := c.Head(ctx, repo.Tag(tag)); err != nil && !strings.Contains(err.Error(), "404") {
			t.Logf("HEAD %s: %v", tag, err)
		}
	}
	head(ctx, "warm") // the ping, before the queue forms
	// The holder keeps the one place for 2 s: time for the other two to
	// queue, in either order, however loaded the machine.
	proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "holder"}, Effect: testreg.EffectDelay, Delay: 2 * time.Second})
	var wg sync.WaitGroup
	wg.Go(func() { head(ctx, "holder") })
	for arrived := false; !arrived; time.Sleep(5 * time.Millisecond) {
		// At the proxy, the holder has the place.
		for _, a := range proxy.Arrivals() {
			arrived = arrived || strings.HasSuffix(a.Path, "/holder")
		}
		if ctx.Err() != nil {
			t.Fatal("the holder never reached the registry")
		}
	}
	var l published.TagLister
	wg.Go(func() { head(registry.WithPriority(ctx, 1), "backend-1") })
	wg.Go(func() {
		tags, err := l.Tags(registry.WithPriority(ctx, 9), c, repo)
		if err != nil || len(tags) != 1 {
			t.Errorf("tags = %v, %v; want [v1]", tags, err)
		}
	})
	wg.Wait()
	var got []string
	for _, a := range proxy.Arrivals() {
		switch a.Kind {
		case testreg.KindTags:
			got = append(got, "list")
		case testreg.KindManifest:
			got = append(got, a.Path[strings.LastIndex(a.Path, "/")+1:])
		}
	}
	if want := "warm holder list backend-1"; strings.Join(got, " ") != want {
		t.Errorf("arrival order %q, want %q", strings.Join(got, " "), want)
	}
}
