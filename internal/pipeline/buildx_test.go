package pipeline_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/pipeline"
	"github.com/go-skynet/remerge/internal/testkit/imagetools"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// These tests are the oracle for every claim that remerge writes "what
// buildx writes": the real buildx (tools.Buildx, v0.36.1) prints what it
// would push with --dry-run, and remerge's writer must print the same
// bytes over the same sources.

func newBuildx(t *testing.T, args ...string) imagetools.Buildx {
	t.Helper()
	return imagetools.Buildx{Path: tools.Buildx.Require(t), DockerConfig: t.TempDir(), Args: args}
}

type leg struct {
	os, arch, variant string
	oci               bool
}

// pushLegs pushes one image per leg into repo by digest only, as the build
// jobs do, and returns their digests in leg order.
func pushLegs(ctx context.Context, t *testing.T, reg *testreg.Registry, repo string, legs []leg) []string {
	t.Helper()
	var out []string
	for _, l := range legs {
		img, err := testreg.NewImage(v1.Platform{OS: l.os, Architecture: l.arch, Variant: l.variant}, testreg.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.oci {
			img = mutate.MediaType(img, types.OCIManifestSchema1)
			img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		}
		info, err := reg.PutImage(ctx, repo, img)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, info.Digest)
	}
	return out
}

// globSources is the merge step's `$(printf 'SRC@sha256:%s ' *)`, run by a
// real shell in a digests folder holding one empty file per digest.
func globSources(t *testing.T, src string, digests []string) []string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range digests {
		if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(d, "sha256:")), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", `printf "${SRC}@sha256:%s " *`)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SRC="+src, "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("glob: %v", err)
	}

	return strings.Fields(string(out))
}

func TestWriterMatchesBuildxDryRun(t *testing.T) {
	reg := testreg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bx := newBuildx(t)
	repo := "org/backends"
	src := reg.Repo(repo)

	// A pair whose arm64 digest sorts before its amd64 one: the glob puts
	// arm64 first, and so must remerge.
	var armFirst []string
	for range 50 {
		ds := pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64"}})
		if ds[1] < ds[0] {
			armFirst = ds
			break
		}
	}
	if armFirst == nil {
		t.Fatal("no pair with the arm64 digest first in 50 tries")
	}
	cases := []struct {
		name    string
		digests []string
	}{
		{"two legs", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64"}})},
		{"arm64 digest sorts first", armFirst},
		{"one leg (amd64 only)", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}})},
		{"single-arch amd64", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}})},
		{"single-arch arm64", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "arm64"}})},
		{"arm64 v8 variant normalised", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64", variant: "v8"}})},
		{"arm v7 keeps its variant", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "arm", variant: "v7"}})},
		{"OCI children give an OCI index", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64", oci: true}, {os: "linux", arch: "arm64", oci: true}})},
		{"mixed media types give an OCI index", pushLegs(ctx, t, reg, repo, []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64", oci: true}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sources := globSources(t, src, tc.digests)
			want, err := bx.DryRun(ctx, sources)
			if err != nil {
				t.Fatal(err)
			}
			w := pipeline.Writer{Options: []remote.Option{remote.WithAuth(reg.Authenticator())}, Merge: manifest.DefaultMergeOptions()}
			got, err := w.DryRun(ctx, sources)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("remerge writes\n%s\nbuildx writes\n%s", got, want)
			}
			// Whatever order the matrix gives the legs in, the default
			// writer gives buildx's bytes over the glob.
			rev := append([]string(nil), sources...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if got, _ := w.DryRun(ctx, rev); string(got) != string(want) {
				t.Fatalf("reversed sources: remerge writes\n%s\nbuildx writes\n%s", got, want)
			}
			var idx struct {
				Manifests []json.RawMessage `json:"manifests"`
			}
			if err := json.Unmarshal(want, &idx); err != nil || len(idx.Manifests) != len(tc.digests) {
				t.Fatalf("buildx wrote %d entries over %d sources (%v)", len(idx.Manifests), len(tc.digests), err)
			}
		})
	}
}

// With --prefer-index=false (and buildx < 0.15) a single source is published
// as itself; order: matrix keeps the sources' order.
func TestWriterMatchesBuildxOptions(t *testing.T) {
	reg := testreg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := reg.Repo("org/backends")
	opts := []remote.Option{remote.WithAuth(reg.Authenticator())}

	single := pushLegs(ctx, t, reg, "org/backends", []leg{{os: "linux", arch: "amd64"}})
	sources := globSources(t, src, single)
	want, err := newBuildx(t, "--prefer-index=false").DryRun(ctx, sources)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pipeline.Writer{Options: opts, Merge: manifest.MergeOptions{PreferIndex: false, Order: manifest.OrderDigest}}.DryRun(ctx, sources)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || manifest.DigestOf(got) != single[0] {
		t.Fatalf("prefer-index=false over one source: remerge writes %s, buildx %s (child %s)", manifest.DigestOf(got), manifest.DigestOf(want), single[0])
	}

	pair := pushLegs(ctx, t, reg, "org/backends", []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64"}})
	matrixOrder := []string{src + "@" + pair[0], src + "@" + pair[1]}
	want, err = newBuildx(t).DryRun(ctx, matrixOrder)
	if err != nil {
		t.Fatal(err)
	}
	got, err = pipeline.Writer{Options: opts, Merge: manifest.MergeOptions{PreferIndex: true, Order: manifest.OrderMatrix}}.DryRun(ctx, matrixOrder)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("order matrix: remerge writes\n%s\nbuildx writes\n%s", got, want)
	}
}

// Create (a push, not a dry run) publishes under every tag the digest the
// dry run printed, with each child copied into the target repo, for buildx
// and the writer alike; the anchor step is Create over one source.
func TestCreatePublishesDryRunDigest(t *testing.T) {
	quay := testreg.Start(t)
	hub := testreg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ds := pushLegs(ctx, t, quay, "org/ci-cache", []leg{{os: "linux", arch: "amd64"}, {os: "linux", arch: "arm64"}})
	sources := globSources(t, quay.Repo("org/ci-cache"), ds)
	opts := []remote.Option{remote.WithAuth(quay.Authenticator())}
	for _, p := range []struct {
		name string
		p    pipeline.Pipeline
		reg  *testreg.Registry
	}{
		{"buildx same registry", newBuildx(t), quay},
		{"writer same registry", pipeline.Writer{Options: opts, Merge: manifest.DefaultMergeOptions()}, quay},
		{"buildx across registries", newBuildx(t), hub},
		{"writer across registries", pipeline.Writer{Options: opts, Merge: manifest.DefaultMergeOptions()}, hub},
	} {
		t.Run(p.name, func(t *testing.T) {
			repo := "org/" + strings.ReplaceAll(p.name, " ", "-")
			tags := []string{p.reg.Repo(repo) + ":v1-cpu-x", p.reg.Repo(repo) + ":latest-cpu-x"}
			if err := p.p.Create(ctx, tags, sources); err != nil {
				t.Fatal(err)
			}
			raw, err := p.p.DryRun(ctx, sources)
			if err != nil {
				t.Fatal(err)
			}
			dgst := manifest.DigestOf(raw)
			for _, tag := range []string{"v1-cpu-x", "latest-cpu-x"} {
				got, err := p.reg.Resolve(ctx, repo, tag)
				if err != nil || got != dgst {
					t.Fatalf("%s resolves to %s (%v), want %s", tag, got, err, dgst)
				}
			}
			for _, d := range ds {
				if ok, err := p.reg.ManifestExists(ctx, repo, d); err != nil || !ok {
					t.Fatalf("child %s not copied into %s (%v)", d, repo, err)
				}
			}
		})
	}
}
