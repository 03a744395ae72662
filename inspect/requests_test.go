package inspect_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/scenario/scenariotest"
	"github.com/go-skynet/remerge/internal/testreg"
)

// TestInspectRequestBudget counts, at the registries, what a full
// inspection of a healthy release asks: one manifest GET per (backend,
// target) (other tags are HEADed, since Docker Hub counts GETs against its
// pull limit), one HEAD per (digest, repo) not already proven by its
// keepalive tag, and in all no more than one request per (digest, repo)
// plus one per (target, tag) plus tag listings and pings.
func TestInspectRequestBudget(t *testing.T) {
	ctx := context.Background()
	backends := []scenario.Backend{
		{Suffix: "-cpu-a", Kind: inspect.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-b", Kind: inspect.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-gpu-c", Kind: inspect.KindSingle, Fate: scenario.Healthy},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	s, m, quay, hub := f.Seeded, f.Matrix, f.Quay, f.Hub
	quay.ResetStats()
	hub.ResetStats()
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	rep, err := inspect.Run(ctx, s.Release, inspect.WithConfig(s.Config), inspect.WithMatrix(m), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.OK != len(backends) {
		t.Fatalf("summary %+v, want all ok", rep.Summary)
	}
	legs, repos, targets, tags := 5, 3, 2, 3 // 2+2+1 legs; anchor + 2 targets; release, sha, latest
	q, h := quay.Stats(), hub.Stats()
	gets := q.Requests(http.MethodGet, testreg.KindManifest) + h.Requests(http.MethodGet, testreg.KindManifest)
	heads := q.Requests(http.MethodHead, testreg.KindManifest) + h.Requests(http.MethodHead, testreg.KindManifest)
	if want := len(backends) * targets; gets != want {
		t.Errorf("manifest GETs: %d, want one per (backend, target) = %d", gets, want)
	}
	// Cells: every (leg, repo) but the anchor's (its keepalive tag proved
	// it); tags: the non-release tags of each (backend, target); anchors:
	// one keepalive HEAD per leg.
	wantHeads := legs*(repos-1) + len(backends)*targets*(tags-1) + legs
	if heads != wantHeads {
		t.Errorf("manifest HEADs: %d, want %d", heads, wantHeads)
	}
	lists := q.Requests("", testreg.KindTags) + h.Requests("", testreg.KindTags)
	pings := q.Requests("", testreg.KindPing) + h.Requests("", testreg.KindPing)
	budget := legs*repos + len(backends)*targets*tags + lists + pings
	if total := q.Total() + h.Total(); total > budget {
		t.Errorf("%d requests, budget %d (%d (digest, repo) + %d (target, tag) + %d listings + %d pings)\nquay:\n%s\ndocker.io:\n%s",
			total, budget, legs*repos, len(backends)*targets*tags, lists, pings, q, h)
	}
}
