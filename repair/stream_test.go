package repair_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

// TestCrossRegistryCopyStreams copies a 48 MiB incompressible layer from
// docker.io to quay and samples the heap meanwhile: the copy streams from
// one registry to the other, so the heap grows by the layer the target
// registry stores (loopreg keeps blobs in memory) and little more: a
// buffered copy would add another layer's worth. (Both registries run in
// this process and stream too; a buffered copy on either side would show
// here.)
func TestCrossRegistryCopyStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 48 MiB")
	}
	const layer = 48 << 20
	ctx := context.Background()
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-gpu-big", Kind: release.KindSingle, Fate: scenario.CrossOnly, NoPrevious: true}},
		testreg.ImageOptions{Layers: 1, LayerSize: layer})
	// A real target holds every tag ever written; here it holds nothing, and
	// distribution answers NAME_UNKNOWN for a repo without a tag, which
	// inspect rightly takes as a repo that does not exist. One older tag
	// makes the quay target the repo it stands for.
	old, err := f.Quay.PushImage(ctx, scenario.QuayTarget, v1.Platform{OS: "linux", Architecture: "amd64"}, testreg.ImageOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Quay.PublishSingle(ctx, scenario.QuayTarget, []string{"v0.1.0-other"}, old); err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	rel := f.Release
	rel.Run = "" // its only anchor went with the leg
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithDigests(f.Digests), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	p, err := repair.NewPlan(ctx, c, f.Config, f.Release, rep.Backends[0], "quay")
	if err != nil || p.Refusal != "" || p.Legs[0].Kind != repair.SourceCopy {
		t.Fatalf("plan: %v, refusal %q\n%s", err, p.Refusal, p)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			if s.HeapInuse > peak.Load() {
				peak.Store(s.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	res, err := repair.Execute(ctx, c, p, repair.WithAudit(t.TempDir()+"/audit.jsonl"))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesCopied < layer {
		t.Fatalf("copied %d bytes, want the %d-byte layer", res.BytesCopied, layer)
	}
	grew := int64(peak.Load()) - int64(base)
	t.Logf("copied %d bytes; heap in use grew by at most %.1f MiB", res.BytesCopied, float64(grew)/(1<<20))
	if grew > layer+layer/2 {
		t.Errorf("heap grew by %.1f MiB while copying a %d MiB layer: the copy is buffered, not streamed",
			float64(grew)/(1<<20), layer>>20)
	}
}
