package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/imagetools"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// recipePlatforms are the build jobs of the replayed recipe.
var recipePlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
	{OS: "linux", Architecture: "arm", Variant: "v7"},
}

// recipeWorld is one image released by docker's multi-runner recipe into
// two loopback registries (standing for GHCR and Docker Hub).
type recipeWorld struct {
	ghcr, hub *testreg.Registry
	bx        imagetools.Buildx
	config    string
	// digests: release -> its flat digests folder (merge-multiple).
	digests map[string]string
}

const recipeRepo = "acme/app"

func newRecipeWorld(t *testing.T) *recipeWorld {
	t.Helper()
	w := &recipeWorld{ghcr: testreg.Start(t), hub: testreg.Start(t), digests: map[string]string{}}
	w.bx = imagetools.Buildx{Path: tools.Buildx.Require(t), DockerConfig: t.TempDir()}
	w.config = filepath.Join(t.TempDir(), "remerge.yaml")
	cfg := fmt.Sprintf(`platforms: [linux/amd64, linux/arm64, linux/arm/v7]
targets:
  - name: ghcr
    repo: %s
  - name: dockerhub
    repo: %s
tags:
  release: "{version}"
  latest: "latest"
  also: ["{major}.{minor}", "{major}"]
`, w.ghcr.Repo(recipeRepo), w.hub.Repo(recipeRepo))
	if err := os.WriteFile(w.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// build is the recipe's build jobs for one release: each platform's image,
// labelled by metadata-action with the version, pushed by digest only to
// both registries (build-push-action's push-by-digest with two names), and
// its digest written as an empty file into the flat folder
// download-artifact's merge-multiple gives the merge job. failed names a
// platform whose build job failed: no image, no artifact.
func (w *recipeWorld) build(ctx context.Context, t *testing.T, ref string, failed string) []string {
	t.Helper()
	dir := t.TempDir()
	w.digests[ref] = dir
	var out []string
	for _, p := range recipePlatforms {
		if strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/") == failed {
			continue
		}
		img := labelledImage(t, p, ref, strings.Repeat("ab", 20))
		var dgst string
		for _, reg := range []*testreg.Registry{w.ghcr, w.hub} {
			info, err := reg.PutImage(ctx, recipeRepo, img)
			if err != nil {
				t.Fatal(err)
			}
			dgst = info.Digest
		}
		if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(dgst, "sha256:")), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dgst)
	}
	return out
}

// sources is the merge step's $(printf 'IMG@sha256:%s ' *) in the flat
// folder, run by a real shell.
// labelledImage is one platform's image as the recipe's build job writes
// it: labelled by metadata-action with ref's version and the revision.
func labelledImage(t *testing.T, p v1.Platform, ref, revision string) v1.Image {
	t.Helper()
	img, err := testreg.NewImage(p, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.version":  strings.TrimPrefix(ref, "v"),
		"org.opencontainers.image.revision": revision,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func (w *recipeWorld) sources(t *testing.T, ref string) []string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `printf "${IMG}@sha256:%s " *`)
	cmd.Dir = w.digests[ref]
	cmd.Env = append(os.Environ(), "IMG="+w.ghcr.Repo(recipeRepo), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

// metadataTags are metadata-action's tags for a semver git tag with
// type=semver patterns {{version}}, {{major}}.{{minor}}, {{major}} and
// latest=auto.
func metadataTags(ref string) []string {
	v := strings.TrimPrefix(ref, "v")
	parts := strings.Split(v, ".")
	return []string{v, parts[0] + "." + parts[1], parts[0], "latest"}
}

// merge is the recipe's merge job into the given registries.
func (w *recipeWorld) merge(ctx context.Context, t *testing.T, ref string, regs ...*testreg.Registry) {
	t.Helper()
	var tags []string
	for _, reg := range regs {
		for _, tag := range metadataTags(ref) {
			tags = append(tags, reg.Repo(recipeRepo)+":"+tag)
		}
	}
	if err := w.bx.Create(ctx, tags, w.sources(t, ref)); err != nil {
		t.Fatal(err)
	}
}

func (w *recipeWorld) args(ref string) []string {
	return []string{"--config", w.config, "--release", ref, "--digests", w.digests[ref]}
}

func (w *recipeWorld) inspect(t *testing.T, ref string) *release.BackendReport {
	t.Helper()
	code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "json"}, w.args(ref)...)...)
	if code == exitUsage {
		t.Fatalf("inspect %s: exit %d: %s", ref, code, stderr)
	}
	var rep release.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("inspect %s: %v\n%s", ref, err, stdout)
	}
	if len(rep.Backends) != 1 {
		t.Fatalf("inspect %s: %d backends, want the one image", ref, len(rep.Backends))
	}
	return rep.Backends[0]
}

// resolve is what a tag names in each registry ("" when missing).
func (w *recipeWorld) resolve(ctx context.Context, t *testing.T, tag string) [2]string {
	t.Helper()
	var out [2]string
	for i, reg := range []*testreg.Registry{w.ghcr, w.hub} {
		d, err := reg.Resolve(ctx, recipeRepo, tag)
		if err != nil && !strings.Contains(err.Error(), "404") && !strings.Contains(strings.ToLower(err.Error()), "unknown") {
			t.Fatalf("resolving %s: %v", tag, err)
		}
		out[i] = d
	}
	return out
}

// TestRecipeReplay replays docker's multi-runner recipe with the real
// buildx: four releases of one three-platform image (healthy; merge failed
// in both registries; merged in GHCR only; the arm/v7 build failed).
// inspect names each verdict; repair --all --yes publishes buildx's own
// list under every tag in both registries, newer release first, and the
// older release repaired after it never moves {major} or latest back.
func TestRecipeReplay(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newRecipeWorld(t)

	w.build(ctx, t, "v2.0.0", "")
	w.merge(ctx, t, "v2.0.0", w.ghcr, w.hub) // healthy
	w.build(ctx, t, "v2.1.0", "")            // merge failed in both
	w.build(ctx, t, "v2.2.0", "")
	w.merge(ctx, t, "v2.2.0", w.ghcr) // merged in GHCR only
	lost := w.build(ctx, t, "v2.3.0", "linux/arm/v7")
	if len(lost) != 2 {
		t.Fatalf("v2.3.0 built %d platforms, want 2", len(lost))
	}

	want := map[string]release.Verdict{"v2.0.0": release.VerdictOK, "v2.1.0": release.VerdictRepairable,
		"v2.2.0": release.VerdictRepairable, "v2.3.0": release.VerdictUnrepairable}
	for ref, v := range want {
		b := w.inspect(t, ref)
		if b.Verdict != v {
			t.Errorf("%s: verdict %s, want %s; problems %q", ref, b.Verdict, v, b.Problems)
		}
		if len(b.Legs) != 3 || b.Legs[2].PlatformTag != "arm-v7" || b.Legs[2].Platform != "linux/arm/v7" {
			t.Errorf("%s: legs %+v, want amd64, arm64, arm-v7", ref, b.Legs)
		}
	}
	b := w.inspect(t, "v2.3.0")
	if !strings.Contains(strings.Join(b.Problems, "\n"), "linux/arm/v7 anywhere") || !strings.Contains(strings.Join(b.Problems, "\n"), "its build failed or its digest expired") {
		t.Errorf("v2.3.0 problems do not name linux/arm/v7 and why: %q", b.Problems)
	}

	// The newer release first, then the older one.
	for _, ref := range []string{"v2.2.0", "v2.1.0"} {
		code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl")}, w.args(ref)...)...)
		if code != 0 {
			t.Fatalf("repair %s: exit %d; stderr %q\n%s", ref, code, stderr, stdout)
		}
		raw, err := w.bx.DryRun(ctx, w.sources(t, ref))
		if err != nil {
			t.Fatal(err)
		}
		list := manifest.DigestOf(raw)
		mine := []string{strings.TrimPrefix(ref, "v"), strings.TrimPrefix(ref, "v")[:3]}
		for _, tag := range mine {
			if got := w.resolve(ctx, t, tag); got != [2]string{list, list} {
				t.Errorf("after repair %s: %s is %v in ghcr, dockerhub; want buildx's %s in both", ref, tag, got, list)
			}
		}
		if b := w.inspect(t, ref); b.Verdict != release.VerdictOK {
			t.Errorf("after repair %s: verdict %s; problems %q", ref, b.Verdict, b.Problems)
		}
	}
	raw, err := w.bx.DryRun(ctx, w.sources(t, "v2.2.0"))
	if err != nil {
		t.Fatal(err)
	}
	newest := manifest.DigestOf(raw)
	for _, tag := range []string{"2", "latest"} {
		if got := w.resolve(ctx, t, tag); got != [2]string{newest, newest} {
			t.Errorf("%s is %v in ghcr, dockerhub; want v2.2.0's %s in both: repairing v2.1.0 must not move it back", tag, got, newest)
		}
	}
	if b := w.inspect(t, "v2.3.0"); b.Verdict != release.VerdictUnrepairable {
		t.Errorf("v2.3.0 after repairs: %s", b.Verdict)
	}

	// Two releases' artifacts in one folder: two digests per platform, an
	// input error naming the files.
	mixed := t.TempDir()
	for _, ref := range []string{"v2.0.0", "v2.1.0"} {
		entries, err := os.ReadDir(w.digests[ref])
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := os.WriteFile(filepath.Join(mixed, e.Name()), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, _, stderr := runArgs(t, "inspect", "--config", w.config, "--release", "v2.1.0", "--digests", mixed)
	if code != exitUsage || !strings.Contains(stderr, "two digests for linux/") || !strings.Contains(stderr, mixed) {
		t.Errorf("mixed digests folder: exit %d, stderr %q; want %d naming the files", code, stderr, exitUsage)
	}
}
