// Package repair re-merges a broken backend into one target repository: it
// chooses, for every leg, a repository that still holds the child manifest,
// copies (or cross-mounts) what the target lacks, writes the same manifest
// list bytes `docker buildx imagetools create` would have written, moves the
// release's tags, and records what it did in an audit log.
//
// NewPlan only reads; Execute writes. Nothing is ever deleted, no list is
// written while a child is absent from the target, and tags are moved last,
// so a failure or a cancel leaves the tags as they were.
package repair

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types the merge reads and writes.
const (
	// MediaTypeDockerList is what buildx writes when every child is a Docker
	// manifest: the LocalAI case, so the case whose digest must match CI's.
	MediaTypeDockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeDockerManifest is a Docker v2 schema 2 image manifest.
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MediaTypeDockerSchema1 manifests cannot be put in a list.
	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// Child is one leg's manifest as the list will name it. Raw is kept as the
// registry served it: the list's descriptor digest and size are computed
// from these bytes, and they are what gets copied into the target.
type Child struct {
	// PlatformTag is the matrix platform-tag (amd64, arm64, single).
	PlatformTag string
	// Digest is the expected digest, "sha256:<hex>"; it must match Raw.
	Digest string
	// MediaType is the manifest's media type as the registry served it.
	MediaType string
	// Raw is the manifest exactly as served.
	Raw []byte
	// Platform is read from the child's config blob and normalised the way
	// buildx does (ConfigPlatform).
	Platform ocispec.Platform
}

// ConfigPlatform reads os, architecture and variant from an image config
// blob and normalises them as buildx does before writing a list entry
// (containerd's platforms.Normalize: aarch64 -> arm64, arm64 variant v8 ->
// "", x86_64 -> amd64). Only those three fields are kept, as buildx keeps
// them: os.version and os.features never reach the list.
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

// PlatformString formats a platform as os/arch[/variant], the way the
// matrix and the report write it.
func PlatformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// ManifestMediaType returns the media type of a manifest: the one the
// registry announced, else the manifest's own mediaType field, else (a
// manifest with a config and no mediaType field) Docker schema 2, which is
// how buildx guesses it.
func ManifestMediaType(announced string, raw []byte) string {
	if announced != "" {
		return announced
	}
	var m struct {
		MediaType string          `json:"mediaType"`
		Config    json.RawMessage `json:"config"`
		FSLayers  []any           `json:"fsLayers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return ""
	}
	switch {
	case m.MediaType != "":
		return m.MediaType
	case m.Config != nil:
		return MediaTypeDockerManifest
	case len(m.FSLayers) > 0:
		return MediaTypeDockerSchema1
	}
	return ""
}

// IsList reports whether a media type is a manifest list or an OCI index.
func IsList(mediaType string) bool {
	return mediaType == MediaTypeDockerList || mediaType == ocispec.MediaTypeImageIndex
}

// DigestOf returns "sha256:<hex>" of b.
func DigestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// BuildList returns the bytes, media type and digest of what buildx
// imagetools create writes over these children, in this order.
//
// It is json.MarshalIndent(ocispec.Index, "", "  ") with no trailing
// newline: schemaVersion 2, the list media type (Docker manifest list when
// every child has a Docker media type, else OCI index), and one descriptor
// per child (mediaType, digest, size, platform), no annotations. A child
// whose digest repeats an earlier one is merged into it as buildx does (its
// platform wins). A single child still gives a one-entry list here; callers
// publishing a single-arch backend publish the child itself (Merge).
func BuildList(children []Child) (raw []byte, mediaType, dgst string, err error) {
	if len(children) == 0 {
		return nil, "", "", errors.New("building list: no children")
	}
	descs := make([]ocispec.Descriptor, 0, len(children))
	seen := map[string]int{}
	for _, c := range children {
		if err := c.check(); err != nil {
			return nil, "", "", err
		}
		p := c.Platform
		d := ocispec.Descriptor{
			MediaType: c.MediaType,
			Digest:    digest.Digest(c.Digest),
			Size:      int64(len(c.Raw)),
			Platform:  &p,
		}
		if i, ok := seen[c.Digest]; ok {
			descs[i].Platform = d.Platform
			continue
		}
		seen[c.Digest] = len(descs)
		descs = append(descs, d)
	}
	mediaType = MediaTypeDockerList
	for _, d := range descs {
		if !strings.HasPrefix(d.MediaType, "application/vnd.docker.") {
			mediaType = ocispec.MediaTypeImageIndex
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

// Merge returns what a merge publishes under the tags: over one child, the
// child manifest itself (current buildx, no list); over two or more, the
// list of BuildList.
func Merge(children []Child) (raw []byte, mediaType, dgst string, err error) {
	if len(children) == 1 {
		c := children[0]
		if err := c.check(); err != nil {
			return nil, "", "", err
		}
		return bytes.Clone(c.Raw), c.MediaType, c.Digest, nil
	}
	return BuildList(children)
}

// check refuses what buildx refuses and what would make a list lie: bytes
// that do not hash to the digest, schema 1, nested lists, no platform.
func (c Child) check() error {
	if got := DigestOf(c.Raw); got != c.Digest {
		return fmt.Errorf("%s child: manifest bytes hash to %s, not %s", c.PlatformTag, got, c.Digest)
	}
	switch {
	case c.MediaType == "":
		return fmt.Errorf("%s child %s: unknown media type", c.PlatformTag, c.Digest)
	case c.MediaType == MediaTypeDockerSchema1 || c.MediaType == mediaTypeDockerSchema1Signed:
		return fmt.Errorf("%s child %s: schema1 manifests are not allowed in manifest lists", c.PlatformTag, c.Digest)
	case IsList(c.MediaType):
		return fmt.Errorf("%s child %s is itself a list (%s); expected a single-platform manifest", c.PlatformTag, c.Digest, c.MediaType)
	case c.Platform.OS == "" || c.Platform.Architecture == "":
		return fmt.Errorf("%s child %s: no platform", c.PlatformTag, c.Digest)
	}
	return nil
}
