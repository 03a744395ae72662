package inspect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/imagetools"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// TestAttestedLegs: each digest of the folder names an attested build (an
// index over the image and its attestation manifest). A release published
// as buildx merges them is ok; a probe of an attestation manifest that
// does not answer makes the leg and the tags could-not-tell (unknown),
// while an attestation manifest gone from the only repo makes the leg
// present nowhere (unrepairable) and the tags dangling.
func TestAttestedLegs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := testreg.Start(t)
	proxy := testreg.StartFaultProxy(t, reg.Host)
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64, linux/arm64]\ntargets: [{name: a, repo: "+proxy.Repo("acme/app")+"}]\ntags: {release: \"{version}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	builds, err := testreg.PushAttestedBuilds(ctx, testreg.PlatformImages(t, "linux/amd64", "linux/arm64"), dir, nil, testreg.Dest{Reg: reg, Repo: "acme/app"})
	if err != nil {
		t.Fatal(err)
	}
	children := testreg.Children(builds)
	// What buildx publishes over them (proven in internal/pipeline).
	raw, mt, _, err := manifest.Merge(children, manifest.DefaultMergeOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"1.0.0", "latest"} {
		if err := reg.PutManifest(ctx, "acme/app", tag, raw, mt); err != nil {
			t.Fatal(err)
		}
	}
	inspectOnce := func(opts ...inspect.Option) *release.BackendReport {
		t.Helper()
		d, err := inspect.ReadRecipeDigestsDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		c := registry.New(registry.Options{Retries: -1})
		defer c.Close()
		rep, err := inspect.Run(ctx, release.Release{Ref: "v1.0.0"}, append([]inspect.Option{inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(d), inspect.WithSignatures(false)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Backends[0]
	}
	repo := proxy.Repo("acme/app")

	// Without the digests folder the published list cannot stand for the
	// builds' indexes: could not tell, never "stale" for a healthy release.
	nc := registry.New(registry.Options{Retries: -1})
	rep, err := inspect.Run(ctx, release.Release{Ref: "v1.0.0"}, inspect.WithConfig(cfg), inspect.WithClient(nc), inspect.WithSignatures(false))
	nc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for tag, st := range rep.Backends[0].Targets["a"].Tags {
		if st.State != release.TagError {
			t.Errorf("no digests folder: %s is %s (impact %q), want could not tell; problems %q", tag, st.State, st.UserImpact, rep.Backends[0].Problems)
		}
	}
	if v := rep.Backends[0].Verdict; v != release.VerdictUnknown {
		t.Errorf("no digests folder: verdict %s, want unknown", v)
	}

	b := inspectOnce()
	if b.Verdict != release.VerdictOK || b.Legs[0].Digest != builds[0].Index.Digest || b.Legs[1].Digest != builds[1].Index.Digest {
		t.Fatalf("healthy: verdict %s, legs %+v; problems %q", b.Verdict, b.Legs, b.Problems)
	}

	// --deep checks the blobs of every manifest an index names.
	statement := builds[0].Attestation.Layers[0]
	if err := reg.DropBlob(ctx, "acme/app", statement); err != nil {
		t.Fatal(err)
	}
	if c := inspectOnce(inspect.WithDeep(true)).Legs[0].Cells[repo]; len(c.MissingBlobs) != 1 || c.MissingBlobs[0] != statement {
		t.Errorf("deep, the amd64 attestation's statement unlinked: cell %+v, want it missing %s", c, statement)
	}

	// The amd64 attestation manifest's HEAD fails: could not tell.
	att := strings.TrimPrefix(builds[0].Attestation.Digest, "sha256:")
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{"HEAD"}, PathContains: att}, Effect: testreg.EffectStatus, Status: 500})
	b = inspectOnce()
	if c := b.Legs[0].Cells[repo]; b.Verdict != release.VerdictUnknown || c.State != release.CellError || b.Targets["a"].Tags["1.0.0"].State != release.TagError {
		t.Errorf("attestation probe failing: verdict %s, amd64 cell %+v, tag %s; want unknown, error, error; problems %q",
			b.Verdict, c, b.Targets["a"].Tags["1.0.0"].State, b.Problems)
	}
	proxy.Clear()

	// The arm64 attestation manifest is gone: missing, not could-not-tell.
	if err := reg.Reap(ctx, "acme/app", builds[1].Attestation.Digest); err != nil {
		t.Fatal(err)
	}
	b = inspectOnce()
	c := b.Legs[1].Cells[repo]
	if b.Verdict != release.VerdictUnrepairable || c.State != release.CellMissing || !strings.Contains(c.Error, manifest.Short(builds[1].Attestation.Digest)) ||
		b.Targets["a"].Tags["1.0.0"].State != release.TagDangling {
		t.Errorf("attestation gone: verdict %s, arm64 cell %+v, tag %s; want unrepairable, missing naming it, dangling; problems %q",
			b.Verdict, c, b.Targets["a"].Tags["1.0.0"].State, b.Problems)
	}
}

// TestAttestedAnchors: a LocalAI-style pipeline whose build jobs attach
// attestations anchors each leg with `imagetools create` over the leg's
// index, which buildx publishes as it is (internal/pipeline): the
// keepalive tag names the index, and that index is the leg's digest. The
// release whose merge failed is repairable; once merged as buildx does,
// ok.
func TestAttestedAnchors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := testreg.Start(t)
	cfg, err := release.ParseConfig("r.yml", []byte("anchor: "+reg.Repo("ci-cache")+"\ntargets: [{name: quay, repo: "+reg.Repo("backends")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := release.ParseMatrix("m.yml", []byte("include:\n"+
		"  - {platforms: 'linux/amd64', platform-tag: 'amd64', tag-suffix: '-cpu-a', backend: a}\n"+
		"  - {platforms: 'linux/arm64', platform-tag: 'arm64', tag-suffix: '-cpu-a', backend: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	builds, err := testreg.PushAttestedBuilds(ctx, testreg.PlatformImages(t, "linux/amd64", "linux/arm64"), "", nil,
		testreg.Dest{Reg: reg, Repo: "ci-cache"}, testreg.Dest{Reg: reg, Repo: "backends"})
	if err != nil {
		t.Fatal(err)
	}
	children := testreg.Children(builds)
	var indexes []string
	for i, tag := range []string{"amd64", "arm64"} {
		a := builds[i]
		if err := reg.PutManifest(ctx, "ci-cache", release.KeepaliveTag("7", "-cpu-a", tag), a.Index.Raw, a.Index.MediaType); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, a.Index.Digest)
	}
	run := func() *release.BackendReport {
		t.Helper()
		c := registry.New(registry.Options{})
		defer c.Close()
		rep, err := inspect.Run(ctx, release.Release{Ref: "v1.0.0", Run: "7"}, inspect.WithConfig(cfg), inspect.WithMatrix(m), inspect.WithClient(c), inspect.WithSignatures(false))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Backends[0]
	}
	b := run()
	if b.Verdict != release.VerdictRepairable || b.Legs[0].Digest != indexes[0] || b.Legs[1].Digest != indexes[1] || b.Legs[0].DigestFrom != release.FromAnchor {
		t.Fatalf("merge failed: verdict %s, legs %+v; want repairable with each leg's index from its anchor; problems %q", b.Verdict, b.Legs, b.Problems)
	}
	raw, mt, _, err := manifest.Merge(children, manifest.DefaultMergeOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v1.0.0-cpu-a", "latest-cpu-a"} {
		if err := reg.PutManifest(ctx, "backends", tag, raw, mt); err != nil {
			t.Fatal(err)
		}
	}
	if b := run(); b.Verdict != release.VerdictOK {
		t.Errorf("merged as buildx does: verdict %s; problems %q", b.Verdict, b.Problems)
	}
	// Nothing references a build's index once the list is merged, and a
	// registry's GC reaps it from the target; the anchors keep theirs.
	// The tags still name what the anchored indexes put in the list: never
	// "other digests", never a conflict.
	for _, d := range indexes {
		if err := reg.Reap(ctx, "backends", d); err != nil {
			t.Fatal(err)
		}
	}
	if b := run(); b.Verdict != release.VerdictOK || b.Targets["quay"].State != release.TagComplete {
		t.Errorf("indexes reaped from the target after the merge: verdict %s, release tag %s; problems %q", b.Verdict, b.Targets["quay"].State, b.Problems)
	}
}

// TestAttestedSinglePlatform: over one attested build the real buildx
// publishes the build's index itself; inspect calls that release ok.
func TestAttestedSinglePlatform(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := testreg.Start(t)
	bx := imagetools.Buildx{Path: tools.Buildx.Require(t), DockerConfig: t.TempDir()}
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64]\ntargets: [{name: a, repo: "+reg.Repo("acme/app")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := testreg.NewImage(v1.Platform{OS: "linux", Architecture: "amd64"}, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := reg.PushAttested(ctx, "acme/app", img, ocispec.Platform{OS: "linux", Architecture: "amd64"}, testreg.PredicateProvenance, testreg.PredicateSPDX)
	if err != nil {
		t.Fatal(err)
	}
	src := reg.Repo("acme/app") + "@" + a.Index.Digest
	if err := bx.Create(ctx, []string{reg.Repo("acme/app") + ":1.0.0", reg.Repo("acme/app") + ":latest"}, []string{src}); err != nil {
		t.Fatal(err)
	}
	if d, err := reg.Resolve(ctx, "acme/app", "1.0.0"); err != nil || d != a.Index.Digest {
		t.Fatalf("buildx published %s (%v) over one attested build; expected the index %s itself", d, err, a.Index.Digest)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(a.Index.Digest, "sha256:")), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := inspect.ReadRecipeDigestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{})
	defer c.Close()
	rep, err := inspect.Run(ctx, release.Release{Ref: "v1.0.0"}, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(d), inspect.WithSignatures(false))
	if err != nil {
		t.Fatal(err)
	}
	if b := rep.Backends[0]; b.Verdict != release.VerdictOK {
		t.Errorf("verdict %s, want ok; problems %q", b.Verdict, b.Problems)
	}
}
