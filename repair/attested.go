package repair

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// This file holds what a plan reads of a child beyond its manifest: an
// attested build's manifests (the child is then the build's index), and
// the blobs the target lacks.

// readAttested reads the rest of a child that is an attested build's
// index m (lp holds the index as src served it): every manifest it names,
// from the same source, and which of their blobs the target lacks. A
// manifest the source lacks is an error: that source cannot give the
// child, the next one may.
func readAttested(ctx context.Context, c *registry.Client, dst, repo name.Repository, lp LegPlan, m manifest.Manifest) (LegPlan, manifest.Child, []string, error) {
	img, err := manifest.Attested(m)
	if err != nil {
		return lp, manifest.Child{}, nil, fmt.Errorf("child %s is a list, not one platform's image or attested build: %w", short(lp.Digest), err)
	}
	var lost []string
	for _, e := range m.Entries {
		raw, mt, err := getManifest(ctx, c, repo.Digest(e.Digest))
		if err != nil {
			return lp, manifest.Child{}, nil, fmt.Errorf("child %s names %s: %w", short(lp.Digest), short(e.Digest), err)
		}
		pm, err := manifest.Parse(raw, mt, e.Digest)
		if err != nil {
			return lp, manifest.Child{}, nil, fmt.Errorf("child %s names %s: %w", short(lp.Digest), short(e.Digest), err)
		}
		if pm.IsList() {
			return lp, manifest.Child{}, nil, fmt.Errorf("child %s names %s, itself a list", short(lp.Digest), short(e.Digest))
		}
		part := LegPlan{PlatformTag: lp.PlatformTag, Platform: e.Platform, Digest: e.Digest, MediaType: mt, Size: int64(len(raw)),
			Source: lp.Source, Kind: lp.Kind, Raw: raw}
		var lostHere []string
		if part.Blobs, lostHere, err = targetBlobs(ctx, c, dst, pm); err != nil {
			return lp, manifest.Child{}, nil, err
		}
		lost = append(lost, lostHere...)
		lp.Parts = append(lp.Parts, part)
	}
	lp.Platform = manifest.NormalPlatform(img.Platform)
	return lp, manifest.Child{PlatformTag: lp.PlatformTag, Digest: lp.Digest, MediaType: lp.MediaType, Raw: lp.Raw}, lost, nil
}

// targetBlobs lists an image manifest's blobs, marking those dst does
// not link, and the short digests of those.
func targetBlobs(ctx context.Context, c *registry.Client, dst name.Repository, m manifest.Manifest) ([]Blob, []string, error) {
	var (
		blobs []Blob
		lost  []string
	)
	for _, d := range m.Blobs() {
		found, err := c.BlobExists(ctx, dst, d.Digest)
		if err != nil {
			return nil, nil, err
		}
		blobs = append(blobs, Blob{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, Missing: !found})
		if !found {
			lost = append(lost, short(d.Digest))
		}
	}
	return blobs, lost, nil
}

// sourceKind says how a child read from src (repo) reaches dst.
func sourceKind(src string, repo, dst name.Repository) SourceKind {
	switch {
	case src == dst.String() || repo.String() == dst.String():
		return SourceTarget
	case repo.RegistryStr() == dst.RegistryStr():
		return SourceMount
	default:
		return SourceCopy
	}
}

// expected is what the list names for this child: the child itself, or
// every manifest of its attested build (manifest.ExpectedOf).
func (l LegPlan) expected() []manifest.Expected {
	if manifest.IsList(l.MediaType) {
		if m, err := manifest.Parse(l.Raw, l.MediaType, l.Digest); err == nil {
			return manifest.ExpectedOf(l.Digest, l.Platform, &m)
		}
	}
	return manifest.ExpectedOf(l.Digest, l.Platform, nil)
}
