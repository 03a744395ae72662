package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testreg"
	"github.com/go-skynet/remerge/repair"
)

// remergeRun is the re-merge of one backend whose children were reaped from
// quay's target but live on in the anchor repo of the same registry: the
// incident's case, repairable with no layer bytes moved.
type remergeRun struct {
	suffix  string
	latency time.Duration
	// inspect is the one-backend inspection the plan starts from.
	inspect     time.Duration
	inspectReqs int
	// plan and exec are the stats of NewPlan and Execute, both proxies.
	planWall, execWall     time.Duration
	planQuay, planHub      testreg.Stats
	execQuay, execHub      testreg.Stats
	legKinds               []repair.SourceKind
	result                 *repair.Result
	listDigest, wantDigest string // published, and what buildx would publish
}

// layerBytes is every blob byte uploaded by the re-merge (config and layer
// blobs go through the upload endpoints; a mount sends none).
func (r *remergeRun) layerBytes() int64 {
	return r.execQuay.Uploaded("", testreg.KindUpload) + r.execHub.Uploaded("", testreg.KindUpload) +
		r.execQuay.Uploaded("", testreg.KindBlob) + r.execHub.Uploaded("", testreg.KindBlob)
}

// manifestBytes is the manifest bytes put (children and the list).
func (r *remergeRun) manifestBytes() int64 {
	return r.execQuay.Uploaded("PUT", testreg.KindManifest) + r.execHub.Uploaded("PUT", testreg.KindManifest)
}

// reapedBackend picks the first multi-arch backend of fate Reaped.
func (f *fixture) reapedBackend() (scenario.Backend, error) {
	for _, b := range f.seeded.Backends {
		if b.Fate == scenario.Reaped && b.Kind == inspect.KindMultiarch {
			return b, nil
		}
	}
	return scenario.Backend{}, errors.New("no reaped multi-arch backend in the generated release")
}

// runRemerge inspects one reaped backend, then plans and executes its
// re-merge into quay through the repair library, with the proxies at
// latency d, counting each phase apart. It then checks that the release
// tag resolves, in the registry itself, to the list buildx would write.
func (f *fixture) runRemerge(ctx context.Context, d time.Duration) (*remergeRun, error) {
	be, err := f.reapedBackend()
	if err != nil {
		return nil, err
	}
	r := &remergeRun{suffix: be.Suffix, latency: d, wantDigest: f.seeded.Lists[be.Suffix]}
	c := registry.New(registry.Options{Concurrency: concurrency})
	defer c.Close()
	rel := f.release()

	f.setLatency(d)
	start := time.Now()
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(f.cfg), inspect.WithClient(c), inspect.WithBackends(be.Suffix))
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", be.Suffix, err)
	}
	r.inspect = time.Since(start)
	r.inspectReqs = f.quayProxy.Stats().Total() + f.hubProxy.Stats().Total()
	if len(rep.Backends) != 1 || rep.Backends[0].Verdict != inspect.VerdictRepairable {
		return nil, fmt.Errorf("inspecting %s: want one repairable backend, got %+v", be.Suffix, rep.Summary)
	}

	audit := repair.WithAudit(filepath.Join(f.dir, "audit.jsonl"))
	f.setLatency(d)
	start = time.Now()
	plan, err := repair.NewPlan(ctx, c, f.cfg, rel, rep.Backends[0], "quay", audit)
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", be.Suffix, err)
	}
	r.planWall = time.Since(start)
	r.planQuay, r.planHub = f.quayProxy.Stats(), f.hubProxy.Stats()
	for _, l := range plan.Legs {
		r.legKinds = append(r.legKinds, l.Kind)
	}

	f.setLatency(d)
	start = time.Now()
	r.result, err = repair.Execute(ctx, c, plan, audit)
	if err != nil {
		return nil, fmt.Errorf("re-merging %s: %w", be.Suffix, err)
	}
	r.execWall = time.Since(start)
	r.execQuay, r.execHub = f.quayProxy.Stats(), f.hubProxy.Stats()
	f.setLatency(0)

	r.listDigest, err = f.quay.Resolve(ctx, scenario.QuayTarget, rel.Ref+be.Suffix)
	if err != nil {
		return nil, fmt.Errorf("reading back %s%s: %w", rel.Ref, be.Suffix, err)
	}
	return r, nil
}
