package testreg

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	godigest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/internal/manifest"
)

// What buildkit writes when a build attaches attestations
// (docker/build-push-action's default provenance): per platform an OCI
// index over the image manifest and one attestation manifest whose
// layers are in-toto statements (moby/buildkit
// exporter/containerimage/writer.go, commitAttestationsManifest; the
// words are util/attestation's).
const (
	// PredicateProvenance is build-push-action's default attestation.
	PredicateProvenance = "https://slsa.dev/provenance/v0.2"
	// PredicateSPDX is an SBOM attestation (sbom: true).
	PredicateSPDX = "https://spdx.dev/Document"

	mediaTypeInToto = "application/vnd.in-toto+json"
)

// Attested is one build job's push with attestations: Index (whose digest
// the job writes to its digests artifact) names Image (with its platform)
// and Attestation (platform unknown/unknown, annotated as the image's
// attestation manifest).
type Attested struct {
	Index       Image
	Image       Image
	Attestation Image
}

// PushAttested pushes img into repo by digest as buildkit does with
// attestations of the given predicate types (PredicateProvenance when
// none): the image, an attestation manifest whose layers are in-toto
// statements about it, then the OCI index over both. plat is the
// platform the index states for the image. The same img, plat and
// predicates give the same bytes, so two registries get one digest.
func (r *Registry) PushAttested(ctx context.Context, repo string, img v1.Image, plat ocispec.Platform, predicates ...string) (Attested, error) {
	var a Attested
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	var err error
	if a.Image, err = r.PutImage(ctx, repo, img); err != nil {
		return a, err
	}
	att, err := attestationImage(a.Image, predicates)
	if err != nil {
		return a, err
	}
	if a.Attestation, err = r.PutImage(ctx, repo, att); err != nil {
		return a, err
	}
	idx := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{
			{MediaType: a.Image.MediaType, Digest: godigest.Digest(a.Image.Digest), Size: a.Image.Size, Platform: &plat},
			{MediaType: a.Attestation.MediaType, Digest: godigest.Digest(a.Attestation.Digest), Size: a.Attestation.Size,
				Annotations: map[string]string{
					"vnd.docker.reference.digest": a.Image.Digest,
					"vnd.docker.reference.type":   "attestation-manifest",
				},
				Platform: &ocispec.Platform{OS: "unknown", Architecture: "unknown"}},
		},
	}
	raw, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return a, err
	}
	a.Index = Image{Digest: godigest.FromBytes(raw).String(), Size: int64(len(raw)), MediaType: ocispec.MediaTypeImageIndex, Raw: raw}
	if err := r.PutManifest(ctx, repo, a.Index.Digest, raw, a.Index.MediaType); err != nil {
		return a, err
	}
	return a, nil
}

// Dest is one repo of one registry a build job pushes to.
type Dest struct {
	Reg  *Registry
	Repo string
}

// PushAttestedBuilds is a release's attested build jobs, so the tests
// that need one share one fixture: each image, in order, pushed with
// PushAttested (of predicates) to every dest in order, at the platform
// its config states, as build-push-action pushes one build to each of
// its tags; then, when dir is not "", an empty file named by the index
// digest's hex written into dir, as the job uploads its digests
// artifact. PushAttested gives every dest the same bytes, so it returns
// per image the push into the last dest.
func PushAttestedBuilds(ctx context.Context, images []v1.Image, dir string, predicates []string, dests ...Dest) ([]Attested, error) {
	if len(dests) == 0 {
		return nil, fmt.Errorf("pushing attested builds: no destination")
	}
	var out []Attested
	for _, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return out, fmt.Errorf("reading the image's platform: %w", err)
		}
		plat := ocispec.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion, OSFeatures: cf.OSFeatures}
		var a Attested
		for _, d := range dests {
			if a, err = d.Reg.PushAttested(ctx, d.Repo, img, plat, predicates...); err != nil {
				return out, err
			}
		}
		if dir != "" {
			if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(a.Index.Digest, "sha256:")), nil, 0o644); err != nil {
				return out, err
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Child is what remerge knows of the build before merging it: its index
// exactly as served.
func (a Attested) Child() manifest.Child {
	return manifest.Child{Digest: a.Index.Digest, MediaType: a.Index.MediaType, Raw: a.Index.Raw}
}

// Children is each build's Child, in order: the sources a merge of them
// lists.
func Children(builds []Attested) []manifest.Child {
	var out []manifest.Child
	for _, a := range builds {
		out = append(out, a.Child())
	}
	return out
}

// attestationImage is buildkit's attestation manifest for subject: one
// in-toto statement layer per predicate, annotated with its predicate
// type, and an image config of platform unknown/unknown naming them.
func attestationImage(subject Image, predicates []string) (v1.Image, error) {
	if len(predicates) == 0 {
		predicates = []string{PredicateProvenance}
	}
	core := &rawImage{layers: map[v1.Hash]v1.Layer{}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	var diffIDs []godigest.Digest
	for _, p := range predicates {
		stmt, err := json.Marshal(map[string]any{
			"_type":         "https://in-toto.io/Statement/v0.1",
			"predicateType": p,
			"subject":       []any{map[string]any{"name": "_", "digest": map[string]string{"sha256": subject.Digest[len("sha256:"):]}}},
			"predicate":     map[string]any{"buildType": "https://mobyproject.org/buildkit@v1"},
		})
		if err != nil {
			return nil, err
		}
		l := static.NewLayer(stmt, mediaTypeInToto)
		h, _ := l.Digest()
		core.layers[h] = l
		d := godigest.FromBytes(stmt)
		diffIDs = append(diffIDs, d)
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mediaTypeInToto, Digest: d, Size: int64(len(stmt)),
			Annotations: map[string]string{"in-toto.io/predicate-type": p}})
	}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "unknown", Architecture: "unknown"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	var err error
	if core.config, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: godigest.FromBytes(core.config), Size: int64(len(core.config))}
	if core.manifest, err = json.MarshalIndent(m, "", "  "); err != nil {
		return nil, err
	}
	img, err := partial.CompressedToImage(core)
	if err != nil {
		return nil, fmt.Errorf("attestation manifest: %w", err)
	}
	return img, nil
}

// rawImage is an image known by its exact manifest and config bytes, for
// go-containerregistry to push as buildkit wrote them.
type rawImage struct {
	manifest, config []byte
	layers           map[v1.Hash]v1.Layer
}

func (i *rawImage) RawConfigFile() ([]byte, error) { return i.config, nil }
func (i *rawImage) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (i *rawImage) RawManifest() ([]byte, error) { return i.manifest, nil }
func (i *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("attestation manifest has no layer %s", h)
}
