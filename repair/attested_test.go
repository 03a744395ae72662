package repair

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestRepairAttestedNothingHalfWritten: a recipe release of attested
// builds (an index over each platform's image and attestation manifest)
// whose merge failed, with GHCR missing the arm64 attestation manifest.
// A PUT of that manifest into GHCR failing stops the repair before the
// list: no list, no tag. Once GHCR takes it, the repair copies it and
// publishes the list manifest.Merge writes (buildx's bytes, proven in
// internal/pipeline), with every manifest it names in GHCR.
func TestRepairAttestedNothingHalfWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ghcr, hub := testreg.Start(t), testreg.Start(t)
	proxy := testreg.StartFaultProxy(t, ghcr.Host)
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64, linux/arm64]\ntargets:\n  - {name: ghcr, repo: "+proxy.Repo("acme/app")+"}\n  - {name: hub, repo: "+hub.Repo("acme/app")+"}\ntags: {release: \"{version}\", latest: latest}\n"))
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
	lost := builds[1].Attestation.Digest
	if err := ghcr.Reap(ctx, "acme/app", lost); err != nil {
		t.Fatal(err)
	}
	want, _, wantDigest, err := manifest.Merge(children, manifest.DefaultMergeOptions())
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Retries: -1})
	defer c.Close()
	rel := release.Release{Ref: "v1.0.0"}
	plan := func() *Plan {
		t.Helper()
		d, err := inspect.ReadRecipeDigestsDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := inspect.Run(ctx, rel, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(d), inspect.WithSignatures(false))
		if err != nil {
			t.Fatal(err)
		}
		if b := rep.Backends[0]; b.Verdict != release.VerdictRepairable {
			t.Fatalf("verdict %s, want repairable; problems %q", b.Verdict, b.Problems)
		}
		p, err := NewPlan(ctx, c, cfg, rel, rep.Backends[0], "ghcr")
		if err != nil {
			t.Fatal(err)
		}
		if p.ListDigest != wantDigest || string(p.List) != string(want) {
			t.Fatalf("plan's list %s, want %s:\n%s", p.ListDigest, wantDigest, p.List)
		}
		if l := p.Legs[1]; l.Kind != SourceCopy || len(l.Parts) != 2 || l.Parts[1].Digest != lost {
			t.Fatalf("arm64 leg plan %+v: want its index, image and attestation copied from Docker Hub", l)
		}
		if !strings.Contains(p.String(), "copy index and its 2 manifests from "+hub.Repo("acme/app")) {
			t.Errorf("the plan does not say the arm64 index and its manifests are copied:\n%s", p)
		}
		return p
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")

	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPut}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: lost},
		Effect: testreg.EffectStatus, Status: 500})
	if _, err := Execute(ctx, c, plan(), WithAudit(audit), withUser("tester")); err == nil {
		t.Fatal("the attestation manifest's PUT failed, yet Execute succeeded")
	}
	for _, ref := range []string{wantDigest, "1.0.0", "latest"} {
		if ok, err := ghcr.ManifestExists(ctx, "acme/app", ref); err != nil || ok {
			t.Errorf("%s in GHCR after the attestation manifest could not be put (%v): nothing may be written over an absent child", ref, err)
		}
	}

	proxy.Clear()
	if _, err := Execute(ctx, c, plan(), WithAudit(audit), withUser("tester")); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{lost, builds[1].Index.Digest, "1.0.0"} {
		if ok, err := ghcr.ManifestExists(ctx, "acme/app", ref); err != nil || !ok {
			t.Errorf("%s not in GHCR after the repair (%v)", ref, err)
		}
	}
	if got := resolve(t, ghcr, "acme/app", "1.0.0"); got != wantDigest {
		t.Errorf("1.0.0 in GHCR is %s, want %s", got, wantDigest)
	}
}
