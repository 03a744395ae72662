package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
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
	// throttled counts the 429s both proxies answered over all phases.
	throttled int
}

// wall is the re-merge from the one-backend inspect to the last write.
func (r *remergeRun) wall() time.Duration { return r.inspect + r.planWall + r.execWall }

// throttles is the 429s both proxies answered since their last reset.
func (f *fixture) throttles() int {
	return f.quayProxy.Stats().Status(http.StatusTooManyRequests) + f.hubProxy.Stats().Status(http.StatusTooManyRequests)
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

// reapedBackend picks the nth (from 0) multi-arch backend of fate Reaped.
func (f *fixture) reapedBackend(nth int) (scenario.Backend, error) {
	for _, b := range f.seeded.Backends {
		if b.Fate == scenario.Reaped && b.Kind == release.KindMultiarch {
			if nth == 0 {
				return b, nil
			}
			nth--
		}
	}
	return scenario.Backend{}, errors.New("not enough reaped multi-arch backends in the generated release")
}

// runRemerge inspects one reaped backend, then plans and executes its
// re-merge into quay through the repair library, with the proxies at
// latency d, counting each phase apart. It then checks that the release
// tag resolves, in the registry itself, to the list buildx would write.
// nth picks the reaped backend; faults are installed on both proxies for
// every phase.
func (f *fixture) runRemerge(ctx context.Context, d time.Duration, nth int, faults ...testreg.Fault) (*remergeRun, error) {
	defer f.clearFaults()
	be, err := f.reapedBackend(nth)
	if err != nil {
		return nil, err
	}
	r := &remergeRun{suffix: be.Suffix, latency: d, wantDigest: f.seeded.Lists[be.Suffix]}
	c := registry.New(registry.Options{Concurrency: concurrency})
	defer c.Close()
	rel := f.release()

	f.setLatency(d, faults...)
	start := time.Now()
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(f.cfg), inspect.WithClient(c), inspect.WithBackends(be.Suffix))
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", be.Suffix, err)
	}
	r.inspect = time.Since(start)
	r.inspectReqs = f.quayProxy.Stats().Total() + f.hubProxy.Stats().Total()
	r.throttled = f.throttles()
	if len(rep.Backends) != 1 || rep.Backends[0].Verdict != release.VerdictRepairable {
		return nil, fmt.Errorf("inspecting %s: want one repairable backend, got %+v", be.Suffix, rep.Summary)
	}

	audit := repair.WithAudit(filepath.Join(f.dir, "audit.jsonl"))
	f.setLatency(d, faults...)
	start = time.Now()
	plan, err := repair.NewPlan(ctx, c, f.cfg, rel, rep.Backends[0], "quay", audit)
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", be.Suffix, err)
	}
	r.planWall = time.Since(start)
	r.planQuay, r.planHub = f.quayProxy.Stats(), f.hubProxy.Stats()
	r.throttled += f.throttles()
	for _, l := range plan.Legs {
		r.legKinds = append(r.legKinds, l.Kind)
	}

	f.setLatency(d, faults...)
	start = time.Now()
	r.result, err = repair.Execute(ctx, c, plan, audit)
	if err != nil {
		return nil, fmt.Errorf("re-merging %s: %w", be.Suffix, err)
	}
	r.execWall = time.Since(start)
	r.execQuay, r.execHub = f.quayProxy.Stats(), f.hubProxy.Stats()
	r.throttled += f.throttles()
	f.setLatency(0)

	r.listDigest, err = f.quay.Resolve(ctx, scenario.QuayTarget, rel.Ref+be.Suffix)
	if err != nil {
		return nil, fmt.Errorf("reading back %s%s: %w", rel.Ref, be.Suffix, err)
	}
	return r, nil
}
