package pipeline_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// pushAttested pushes one attested build per platform (buildkit's index
// over the image and its attestation manifest) and returns the indexes.
func pushAttested(ctx context.Context, t *testing.T, reg *testreg.Registry, repo string, plats []ocispec.Platform, predicates ...string) []testreg.Attested {
	t.Helper()
	var imgs []v1.Image
	for _, p := range plats {
		img, err := testreg.NewImage(v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}, testreg.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	out, err := testreg.PushAttestedBuilds(ctx, imgs, "", predicates, testreg.Dest{Reg: reg, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Sources that are attestation indexes (build-push-action's default
// provenance, and SBOMs): buildx lists every manifest of every source
// index, as each index states it (attestation manifests with their
// annotations and platform unknown/unknown), in argument order; over
// one source it publishes the index itself. manifest.Merge must write the
// same bytes.
func TestMergeMatchesBuildxOverAttestationIndexes(t *testing.T) {
	reg := testreg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bx := newBuildx(t)
	repo := "org/app"
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	v7 := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	cases := []struct {
		name string
		as   []testreg.Attested
	}{
		{"three platforms with provenance", pushAttested(ctx, t, reg, repo, []ocispec.Platform{amd, arm, v7})},
		{"provenance and SBOM", pushAttested(ctx, t, reg, repo, []ocispec.Platform{amd, arm}, testreg.PredicateProvenance, testreg.PredicateSPDX)},
		{"one platform", pushAttested(ctx, t, reg, repo, []ocispec.Platform{amd})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ds []string
			for _, a := range tc.as {
				ds = append(ds, a.Index.Digest)
			}
			sources := globSources(t, reg.Repo(repo), ds)
			want, err := bx.DryRun(ctx, sources)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("buildx writes\n%s", want)
			got, mt, dgst, err := manifest.Merge(testreg.Children(tc.as), manifest.DefaultMergeOptions())
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("remerge writes\n%s\nbuildx writes\n%s", got, want)
			}
			if mt != manifest.OCIIndex || dgst != manifest.DigestOf(want) {
				t.Fatalf("media type %s digest %s; want an OCI index of digest %s", mt, dgst, manifest.DigestOf(want))
			}
			var idx ocispec.Index
			if err := json.Unmarshal(want, &idx); err != nil {
				t.Fatal(err)
			}
			if len(idx.Manifests) != 2*len(tc.as) {
				t.Fatalf("buildx wrote %d entries over %d attested sources", len(idx.Manifests), len(tc.as))
			}
			if !strings.Contains(string(want), `"vnd.docker.reference.type": "attestation-manifest"`) {
				t.Fatalf("buildx dropped the attestation annotations:\n%s", want)
			}
		})
	}
}
