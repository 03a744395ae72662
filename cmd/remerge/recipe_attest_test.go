package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// buildAttested is the recipe's build jobs with build-push-action's
// default attestations: each platform's labelled image pushed by digest
// to both registries as buildkit pushes it (an OCI index over the image
// and an attestation manifest of the given predicates), and the index's
// digest written into the flat digests folder. It returns each
// platform's push, in platform order.
func (w *recipeWorld) buildAttested(ctx context.Context, t *testing.T, ref string, predicates ...string) []testreg.Attested {
	t.Helper()
	dir := t.TempDir()
	w.digests[ref] = dir
	var imgs []v1.Image
	for _, p := range recipePlatforms {
		imgs = append(imgs, labelledImage(t, p, ref, strings.Repeat("cd", 20)))
	}
	out, err := testreg.PushAttestedBuilds(ctx, imgs, dir, predicates,
		testreg.Dest{Reg: w.ghcr, Repo: recipeRepo}, testreg.Dest{Reg: w.hub, Repo: recipeRepo})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sourcesIn is the merge step's $(printf 'IMG@sha256:%s ' *) with IMG in
// reg.
func (w *recipeWorld) sourcesIn(t *testing.T, ref string, reg *testreg.Registry) []string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `printf "${IMG}@sha256:%s " *`)
	cmd.Dir = w.digests[ref]
	cmd.Env = append(os.Environ(), "IMG="+reg.Repo(recipeRepo), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

// TestRecipeReplayAttested replays docker's multi-runner recipe with
// build-push-action's default provenance (and, for one release, an SBOM
// too): every digest in the folder names an OCI index over the
// platform's image and its attestation manifest. The real buildx merges
// the healthy release; one release's merge failed in both registries;
// another's also lost its arm64 attestation manifest from GHCR. inspect
// reads each leg's platform from its index and calls the healthy release
// ok and the others repairable (GHCR cannot serve the leg whose
// attestation it lost); repair --all --yes copies what each target lacks
// and publishes, under every tag, the digest buildx's dry run prints over
// the same sources.
func TestRecipeReplayAttested(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newRecipeWorld(t)

	w.buildAttested(ctx, t, "v2.0.0")
	w.merge(ctx, t, "v2.0.0", w.ghcr, w.hub) // healthy
	w.buildAttested(ctx, t, "v2.1.0", testreg.PredicateProvenance, testreg.PredicateSPDX)
	lost := w.buildAttested(ctx, t, "v2.2.0")[1] // arm64
	if err := w.ghcr.Reap(ctx, recipeRepo, lost.Attestation.Digest); err != nil {
		t.Fatal(err)
	}

	gone := w.buildAttested(ctx, t, "v2.3.0")[1] // arm64's attestation lost everywhere
	for _, reg := range []*testreg.Registry{w.ghcr, w.hub} {
		if err := reg.Reap(ctx, recipeRepo, gone.Attestation.Digest); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]release.Verdict{"v2.0.0": release.VerdictOK, "v2.1.0": release.VerdictRepairable,
		"v2.2.0": release.VerdictRepairable, "v2.3.0": release.VerdictUnrepairable}
	for ref, v := range want {
		b := w.inspect(t, ref)
		if b.Verdict != v {
			t.Errorf("%s: verdict %s, want %s; problems %q", ref, b.Verdict, v, b.Problems)
		}
		if len(b.Legs) != 3 || b.Legs[2].PlatformTag != "arm-v7" || b.Legs[2].Platform != "linux/arm/v7" || b.Legs[2].DigestFrom != release.FromDigests {
			t.Fatalf("%s: legs %+v, want amd64, arm64, arm-v7 from the digests folder", ref, b.Legs)
		}
	}
	b := w.inspect(t, "v2.2.0")
	ghcr, hub := w.ghcr.Repo(recipeRepo), w.hub.Repo(recipeRepo)
	if c := b.Legs[1].Cells[ghcr]; c.State != release.CellMissing || !strings.Contains(c.Error, manifest.Short(lost.Attestation.Digest)) {
		t.Errorf("v2.2.0 arm64 in GHCR: %+v; want missing, naming the lost attestation manifest %s", c, manifest.Short(lost.Attestation.Digest))
	}
	if c := b.Legs[1].Cells[hub]; c.State != release.CellPresent {
		t.Errorf("v2.2.0 arm64 in Docker Hub: %+v; want present", c)
	}

	// Without the digests folder the healthy release's list names each
	// image with its attestation, but not the index the merge was given:
	// could not tell, never a list to rewrite without the attestations.
	code, stdout, stderr := runArgs(t, "inspect", "--format", "json", "--config", w.config, "--release", "v2.0.0")
	if code == exitUsage || !strings.Contains(stdout, `"verdict": "unknown"`) || !strings.Contains(stdout, "--digests") {
		t.Errorf("v2.0.0 without --digests: exit %d, stderr %q; want verdict unknown asking for --digests:\n%s", code, stderr, stdout)
	}
	// Nothing half-written: a leg whose attestation manifest is gone
	// everywhere is not merged.
	runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl")}, w.args("v2.3.0")...)...)
	if got := w.resolve(ctx, t, "2.3.0"); got != [2]string{} {
		t.Errorf("2.3.0 is %v after repairing a release whose arm64 attestation is lost everywhere; want missing", got)
	}

	var newest string
	for _, ref := range []string{"v2.2.0", "v2.1.0"} {
		code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl")}, w.args(ref)...)...)
		if code != 0 {
			t.Fatalf("repair %s: exit %d; stderr %q\n%s", ref, code, stderr, stdout)
		}
		// Docker Hub holds every source, so buildx can read them there.
		raw, err := w.bx.DryRun(ctx, w.sourcesIn(t, ref, w.hub))
		if err != nil {
			t.Fatal(err)
		}
		list := manifest.DigestOf(raw)
		v := strings.TrimPrefix(ref, "v")
		mine := []string{v, v[:3]}
		if ref == "v2.2.0" {
			newest = list
			mine = append(mine, "2", "latest")
		}
		for _, tag := range mine {
			if got := w.resolve(ctx, t, tag); got != [2]string{list, list} {
				t.Errorf("after repair %s: %s is %v in ghcr, dockerhub; want buildx's %s in both", ref, tag, got, list)
			}
		}
		if b := w.inspect(t, ref); b.Verdict != release.VerdictOK {
			t.Errorf("after repair %s: verdict %s; problems %q", ref, b.Verdict, b.Problems)
		}
	}
	// The labels of the image under 2 and latest (not of its attestation
	// manifest) say it is v2.2.0: repairing v2.1.0 leaves them there.
	for _, tag := range []string{"2", "latest"} {
		if got := w.resolve(ctx, t, tag); got != [2]string{newest, newest} {
			t.Errorf("%s is %v in ghcr, dockerhub; want v2.2.0's %s in both", tag, got, newest)
		}
	}
	if ok, err := w.ghcr.ManifestExists(ctx, recipeRepo, lost.Attestation.Digest); err != nil || !ok {
		t.Errorf("the lost attestation manifest is not back in GHCR (%v)", err)
	}
	// The repaired release's list is buildx's over GHCR's sources too,
	// now that GHCR holds them all again.
	if raw, err := w.bx.DryRun(ctx, w.sourcesIn(t, "v2.2.0", w.ghcr)); err != nil {
		t.Errorf("buildx over GHCR's repaired sources: %v", err)
	} else if got := w.resolve(ctx, t, "2.2.0"); got[0] != manifest.DigestOf(raw) {
		t.Errorf("2.2.0 in GHCR is %s; buildx over GHCR's sources writes %s", got[0], manifest.DigestOf(raw))
	}
}
