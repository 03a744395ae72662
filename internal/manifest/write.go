package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Order is the order of a merged list's children.
type Order string

// Orders.
const (
	// OrderDigest is ascending digest hex: LocalAI's merge passes its
	// sources as a shell glob over files named by digest hex, and buildx
	// keeps argument order.
	OrderDigest Order = "digest"
	// OrderMatrix keeps the matrix's leg order (amd64, then arm64), for
	// pipelines that pass their sources in that order.
	OrderMatrix Order = "matrix"
)

// MergeOptions says how the pipeline merges: what `docker buildx
// imagetools create` is run with.
type MergeOptions struct {
	// PreferIndex is buildx's --prefer-index (true by default since
	// v0.15): a single source is wrapped in a one-entry list. False
	// publishes a single source as itself.
	PreferIndex bool
	// Order of the children; OrderDigest when empty.
	Order Order
}

// DefaultMergeOptions is what LocalAI's merge job does with current buildx.
func DefaultMergeOptions() MergeOptions {
	return MergeOptions{PreferIndex: true, Order: OrderDigest}
}

// Child is one leg's manifest as the list will name it. Raw is kept as the
// registry served it: the descriptor's digest and size come from it.
type Child struct {
	// PlatformTag is the matrix platform-tag (amd64, arm64, single); only
	// used to name the child in errors.
	PlatformTag string
	// Digest is "sha256:<hex>"; it must match Raw.
	Digest string
	// MediaType as the registry served the manifest.
	MediaType string
	// Raw is the manifest exactly as served.
	Raw []byte
	// Platform as read from the child's config (ConfigPlatform).
	Platform ocispec.Platform
}

// ConfigPlatform reads os, architecture and variant from an image config
// blob and normalises them as buildx does before writing a list entry
// (containerd's platforms.Normalize: aarch64 -> arm64, arm64 variant v8 ->
// "", x86_64 -> amd64). Only those three fields reach the list.
func ConfigPlatform(config []byte) (ocispec.Platform, error) {
	var p ocispec.Platform
	if err := json.Unmarshal(config, &p); err != nil {
		return ocispec.Platform{}, fmt.Errorf("reading platform from image config: %w", err)
	}
	if p.OS == "" || p.Architecture == "" {
		return ocispec.Platform{}, errors.New("image config names no os or architecture")
	}
	n := platforms.Normalize(p)
	return ocispec.Platform{OS: n.OS, Architecture: n.Architecture, Variant: n.Variant}, nil
}

// Merge returns what the pipeline publishes under a release's tags over
// these children (in matrix order): the bytes, media type and digest.
//
// With PreferIndex (the default) that is always a list, a one-entry list
// over one child; without it a single child is published as itself. A list
// is json.MarshalIndent(ocispec.Index, "", "  ") with no trailing newline:
// schemaVersion 2, the Docker list media type when every child is a Docker
// manifest (else OCI index), one descriptor per child (mediaType, digest,
// size, platform), no annotations. A child repeating an earlier digest is
// merged into it as buildx does (its platform wins).
func Merge(children []Child, o MergeOptions) (raw []byte, mediaType, dgst string, err error) {
	if len(children) == 0 {
		return nil, "", "", errors.New("merging: no children")
	}
	for _, c := range children {
		if err := c.check(); err != nil {
			return nil, "", "", err
		}
	}
	if len(children) == 1 && (!o.PreferIndex || IsList(children[0].MediaType)) {
		// buildx publishes a single source index as it is, whatever
		// --prefer-index says.
		c := children[0]
		return bytes.Clone(c.Raw), c.MediaType, c.Digest, nil
	}
	ordered := append([]Child(nil), children...)
	if o.Order != OrderMatrix {
		sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].Digest < ordered[j].Digest })
	}
	descs := make([]ocispec.Descriptor, 0, len(ordered))
	seen := map[string]int{}
	for _, c := range ordered {
		if IsList(c.MediaType) {
			// An attested build's index: buildx lists every manifest it
			// names, each as the index states it.
			idx, err := indexOf(c)
			if err != nil {
				return nil, "", "", err
			}
			for _, d := range idx.Manifests {
				descs = addEntry(descs, seen, d)
			}
			continue
		}
		p := c.Platform
		d := ocispec.Descriptor{
			MediaType: c.MediaType,
			Digest:    digest.Digest(c.Digest),
			Size:      int64(len(c.Raw)),
			Platform:  &p,
		}
		descs = addEntry(descs, seen, d)
	}
	return writeList(descs)
}

// writeList marshals a list over descs as buildx does.
func writeList(descs []ocispec.Descriptor) (raw []byte, mediaType, dgst string, err error) {
	mediaType = DockerList
	for _, d := range descs {
		if !strings.HasPrefix(d.MediaType, "application/vnd.docker.") {
			mediaType = OCIIndex
			break
		}
	}
	raw, err = json.MarshalIndent(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: mediaType,
		Manifests: descs,
	}, "", "  ")
	if err != nil {
		return nil, "", "", fmt.Errorf("marshalling list: %w", err)
	}
	return raw, mediaType, DigestOf(raw), nil
}

// check refuses what buildx refuses and what would make a list lie: bytes
// that do not hash to the digest, schema 1, no platform. A list child is
// an attested build's index (see Attested), whose entries state their
// own platforms.
func (c Child) check() error {
	if got := DigestOf(c.Raw); got != c.Digest {
		return fmt.Errorf("%s child: manifest bytes hash to %s, not %s", c.PlatformTag, got, c.Digest)
	}
	switch {
	case c.MediaType == "":
		return fmt.Errorf("%s child %s: unknown media type", c.PlatformTag, c.Digest)
	case c.MediaType == DockerSchema1 || c.MediaType == dockerSchema1Signed:
		return fmt.Errorf("%s child %s: schema1 manifests are not allowed in manifest lists", c.PlatformTag, c.Digest)
	case IsList(c.MediaType):
		_, err := indexOf(c)
		return err
	case c.Platform.OS == "" || c.Platform.Architecture == "":
		return fmt.Errorf("%s child %s: no platform", c.PlatformTag, c.Digest)
	}
	return nil
}

// indexOf reads a list child's entries as buildx does (image-spec's
// Index), refusing one that is not an attested build.
func indexOf(c Child) (ocispec.Index, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(c.Raw, &idx); err != nil {
		return idx, fmt.Errorf("%s child %s: %w", c.PlatformTag, c.Digest, err)
	}
	m, err := Parse(c.Raw, c.MediaType, c.Digest)
	if err == nil {
		_, err = Attested(m)
	}
	if err != nil {
		return idx, fmt.Errorf("%s child: %w", c.PlatformTag, err)
	}
	return idx, nil
}

// addEntry appends d to a list's entries; a digest already named (one image
// given twice) keeps its first place and takes what d states, as buildx
// does: its platform when it names one, its annotations added. Merge and
// ListOf both build their entries this way, so their bytes agree.
func addEntry(descs []ocispec.Descriptor, seen map[string]int, d ocispec.Descriptor) []ocispec.Descriptor {
	if i, ok := seen[d.Digest.String()]; ok {
		old := descs[i]
		if old.MediaType == "" {
			old.MediaType = d.MediaType
		}
		if d.Platform != nil {
			old.Platform = d.Platform
		}
		if len(d.Annotations) > 0 {
			old.Annotations = maps.Clone(old.Annotations)
			if old.Annotations == nil {
				old.Annotations = map[string]string{}
			}
			maps.Copy(old.Annotations, d.Annotations)
		}
		descs[i] = old
		return descs
	}
	seen[d.Digest.String()] = len(descs)
	return append(descs, d)
}
