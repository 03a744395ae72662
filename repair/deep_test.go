package repair_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

// TestDeepFindsALostBlobAndRepairRelinksIt: a layer link lost from quay's
// target leaves the manifest answering HEAD (a plain inspection says ok) but
// pulls fail. --deep sees it; a re-merge links the blob again from the
// anchor repo on the same registry, and --deep then says ok.
func TestDeepFindsALostBlobAndRepairRelinksIt(t *testing.T) {
	ctx := context.Background()
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-cpu-a", Kind: release.KindMultiarch, Fate: scenario.Healthy}}, testreg.ImageOptions{})
	lost := f.Images["-cpu-a"]["arm64"].Layers[0]
	if err := f.Quay.DropBlob(ctx, scenario.QuayTarget, lost); err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	run := func(deep bool) *release.BackendReport {
		t.Helper()
		// A healthy run's anchors are gone: its digests folder tells.
		rel := f.Release
		rel.Run = ""
		rep, err := inspect.Run(ctx, rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDeep(deep), inspect.WithDigests(f.Digests))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Backends[0]
	}
	if b := run(false); b.Verdict != release.VerdictOK {
		t.Fatalf("without --deep: %s, want ok (HEAD cannot see a lost blob)", b.Verdict)
	}
	b := run(true)
	cell := b.Legs[1].Cells[f.Config.Targets[0].Repo]
	if b.Verdict != release.VerdictRepairable || len(cell.MissingBlobs) != 1 || cell.MissingBlobs[0] != lost {
		t.Fatalf("with --deep: %s, quay arm64 cell %+v; want repairable naming %s; problems %q", b.Verdict, cell, lost, b.Problems)
	}
	rel := f.Release
	rel.Run = ""
	p, err := repair.NewPlan(ctx, c, f.Config, rel, b, "quay")
	if err != nil || p.Refusal != "" || p.NoOp {
		t.Fatalf("plan: %v, refusal %q, no-op %v\n%s", err, p.Refusal, p.NoOp, p)
	}
	// A healthy run's anchors were deleted and their children reaped from
	// ci-cache: only docker.io can give the blob back, and only it moves.
	if arm := p.Legs[1]; arm.Kind != repair.SourceCopy || arm.Source != f.Config.Targets[1].Repo {
		t.Fatalf("arm64 from %s (%s), want a copy from docker.io\n%s", arm.Source, arm.Kind, p)
	}
	r, err := repair.Execute(ctx, c, p, repair.WithAudit(t.TempDir()+"/audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Copied) != 1 || r.Copied[0] != lost || len(r.Mounted) != 0 {
		t.Errorf("copied %v, mounted %v; want only the lost layer %s copied", r.Copied, r.Mounted, lost)
	}
	if b := run(true); b.Verdict != release.VerdictOK {
		t.Errorf("after repair, with --deep: %s; problems %q", b.Verdict, b.Problems)
	}
}
