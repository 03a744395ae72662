package repair

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestRepairAttestedIndexReapedFromTarget: after a merge nothing references
// a build's index, and GHCR's clean-up (or any registry's GC) removes it
// while the list keeps every manifest it names. A release whose latest tag
// is missing there is repaired from the repo that still holds the index:
// the plan passes over the target for the index, the list is the one
// buildx writes, and the release tag is left as it was.
func TestRepairAttestedIndexReapedFromTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ghcr, hub := testreg.Start(t), testreg.Start(t)
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64, linux/arm64]\ntargets:\n  - {name: ghcr, repo: "+ghcr.Repo("acme/app")+"}\n  - {name: hub, repo: "+hub.Repo("acme/app")+"}\ntags: {release: \"{version}\", latest: latest}\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	builds, err := testreg.PushAttestedBuilds(ctx, testreg.PlatformImages(t, "linux/amd64", "linux/arm64"), dir, nil,
		testreg.Dest{Reg: ghcr, Repo: "acme/app"}, testreg.Dest{Reg: hub, Repo: "acme/app"})
	if err != nil {
		t.Fatal(err)
	}
	children := testreg.Children(builds)
	list, mt, listDigest, err := manifest.Merge(children, manifest.DefaultMergeOptions())
	if err != nil {
		t.Fatal(err)
	}
	for reg, tags := range map[*testreg.Registry][]string{ghcr: {"1.0.0"}, hub: {"1.0.0", "latest"}} {
		for _, tag := range tags {
			if err := reg.PutManifest(ctx, "acme/app", tag, list, mt); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ch := range children {
		if err := ghcr.Reap(ctx, "acme/app", ch.Digest); err != nil {
			t.Fatal(err)
		}
	}
	c := registry.New(registry.Options{Retries: -1})
	defer c.Close()
	d, err := inspect.ReadRecipeDigestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rel := release.Release{Ref: "v1.0.0"}
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(d), inspect.WithSignatures(false))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	if b.Verdict != release.VerdictRepairable || b.Legs[0].Cells[ghcr.Repo("acme/app")].State != release.CellPresent {
		t.Fatalf("verdict %s, GHCR amd64 cell %+v; want repairable (latest missing) with the build's manifests present in GHCR; problems %q",
			b.Verdict, b.Legs[0].Cells[ghcr.Repo("acme/app")], b.Problems)
	}
	p, err := NewPlan(ctx, c, cfg, rel, b, "ghcr")
	if err != nil {
		t.Fatal(err)
	}
	if p.Refusal != "" || p.ListDigest != listDigest {
		t.Fatalf("plan: refusal %q, list %s; want the list %s", p.Refusal, p.ListDigest, listDigest)
	}
	if _, err := Execute(ctx, c, p, WithAudit(filepath.Join(t.TempDir(), "audit.jsonl")), withUser("tester")); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"1.0.0", "latest"} {
		if got := resolve(t, ghcr, "acme/app", tag); got != listDigest {
			t.Errorf("%s in GHCR is %s, want %s", tag, got, listDigest)
		}
	}
}
