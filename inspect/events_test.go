package inspect_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
)

// A reader of the events that stops at the first one (a screen that no
// longer reads) does not stall the probes: every backend's release tag is
// asked for in every target while the reader is still stuck, and Run
// returns once it reads again. Before the broker the engine called the
// reader under its lock, so the first event stopped every prober.
func TestStuckEventReaderDoesNotStallProbes(t *testing.T) {
	pw := newProxiedWorld(t, 11)
	c := faultClient(t, registry.Options{})
	want := map[string]bool{} // "/v2/<repo path>/manifests/<tag>"
	for _, b := range pw.seeded.Backends {
		tag := pw.cfg.ReleaseTags(pw.seeded.Release, b.Suffix)[0].Tag
		for _, tg := range pw.cfg.Targets {
			_, path, _ := strings.Cut(tg.Repo, "/")
			want["/v2/"+path+"/manifests/"+tag] = true
		}
	}
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
			inspect.WithDigests(pw.digests), inspect.WithClient(c), inspect.WithEvents(func(inspect.Event) {
				once.Do(func() { close(stuck) })
				<-release
			}))
		done <- err
	}()
	<-stuck
	guard := time.Now().Add(time.Minute) // a hang guard, not a timing assertion
	for {
		seen := map[string]bool{}
		for _, a := range append(pw.quay.Arrivals(), pw.hub.Arrivals()...) {
			seen[a.Path] = true
		}
		missing := 0
		for p := range want {
			if !seen[p] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(guard) {
			close(release)
			t.Fatalf("%d of %d release tags were never asked for while the event reader was stuck", missing, len(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v once the reader read again", err)
	}
}
