package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types remerge reads and writes.
const (
	// DockerList is what buildx writes when every child is a Docker
	// manifest: the LocalAI case.
	DockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// DockerManifest is a Docker v2 schema 2 image manifest.
	DockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// DockerSchema1 manifests cannot be put in a list.
	DockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	// OCIIndex and OCIManifest are the OCI image-spec media types.
	OCIIndex    = ocispec.MediaTypeImageIndex
	OCIManifest = ocispec.MediaTypeImageManifest
)

// IsList reports whether a media type is a manifest list or an OCI index.
func IsList(mediaType string) bool {
	return mediaType == DockerList || mediaType == OCIIndex
}

// DigestOf returns "sha256:<hex>" of b.
func DigestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Descriptor is one entry of a list, or the config or a layer of an image
// manifest, as the manifest states it. Size is -1 when the entry states
// none.
type Descriptor struct {
	MediaType string
	Digest    string
	Size      int64
	// Platform is os/arch[/variant] of a list entry, "" when it has none.
	Platform string
	// AttestationOf, for an attestation manifest's entry in an attested
	// build's index, is the digest of the image it is about.
	AttestationOf string
}

// Manifest is a parsed manifest: a list (Entries) or an image (Config and
// Layers). Raw is kept as served; nothing is ever re-marshalled.
type Manifest struct {
	Digest    string
	MediaType string
	Raw       []byte
	// Entries of a list, in list order.
	Entries []Descriptor
	// Config and Layers of an image manifest.
	Config Descriptor
	Layers []Descriptor
}

// IsList reports whether m is a manifest list or index.
func (m Manifest) IsList() bool { return IsList(m.MediaType) }

// Children returns the digests a tag pointing at m names: a list's entries
// in order, or for an image manifest its own digest.
func (m Manifest) Children() []string {
	if !m.IsList() {
		return []string{m.Digest}
	}
	out := make([]string, len(m.Entries))
	for i, e := range m.Entries {
		out[i] = e.Digest
	}
	return out
}

// Blobs returns an image manifest's config then layers.
func (m Manifest) Blobs() []Descriptor {
	if m.IsList() || m.Config.Digest == "" {
		return nil
	}
	return append([]Descriptor{m.Config}, m.Layers...)
}

// MediaTypeOf returns the media type of a manifest: the one the registry
// announced, else the manifest's own mediaType field, else (a manifest with
// a config and no mediaType field) Docker schema 2, as buildx guesses it.
func MediaTypeOf(announced string, raw []byte) string {
	if announced != "" {
		return announced
	}
	var m struct {
		MediaType string          `json:"mediaType"`
		Config    json.RawMessage `json:"config"`
		Manifests json.RawMessage `json:"manifests"`
		FSLayers  []any           `json:"fsLayers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return ""
	}
	switch {
	case m.MediaType != "":
		return m.MediaType
	case m.Config != nil:
		return DockerManifest
	case m.Manifests != nil:
		return OCIIndex
	case len(m.FSLayers) > 0:
		return DockerSchema1
	}
	return ""
}

type wireDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      *int64 `json:"size"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
	Annotations map[string]string `json:"annotations"`
}

func (w wireDescriptor) desc() Descriptor {
	d := Descriptor{MediaType: w.MediaType, Digest: w.Digest, Size: -1}
	if w.Size != nil {
		d.Size = *w.Size
	}
	if w.Platform != nil {
		d.Platform = PlatformString(ocispec.Platform{OS: w.Platform.OS, Architecture: w.Platform.Architecture, Variant: w.Platform.Variant})
	}
	if w.Annotations[annotationRefType] == refTypeAttestation {
		d.AttestationOf = w.Annotations[annotationRefDigest]
	}
	return d
}

// Parse reads a manifest the registry served. announced is the media type
// from the response (may be empty), digest the digest it was served under
// (computed from raw when empty). A list with no entries, or an image
// manifest with no config, is an error: nothing can be judged from it.
func Parse(raw []byte, announced, digest string) (Manifest, error) {
	if digest == "" {
		digest = DigestOf(raw)
	}
	m := Manifest{Digest: digest, MediaType: MediaTypeOf(announced, raw), Raw: raw}
	var w struct {
		Manifests []wireDescriptor `json:"manifests"`
		Config    *wireDescriptor  `json:"config"`
		Layers    []wireDescriptor `json:"layers"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Manifest{}, fmt.Errorf("malformed manifest %s: %v", digest, err)
	}
	switch {
	case m.IsList():
		for _, e := range w.Manifests {
			if !strings.HasPrefix(e.Digest, "sha256:") {
				return Manifest{}, fmt.Errorf("list %s names a child with no sha256 digest", digest)
			}
			m.Entries = append(m.Entries, e.desc())
		}
		if len(m.Entries) == 0 {
			return Manifest{}, fmt.Errorf("list %s names no child", digest)
		}
	case m.MediaType == DockerSchema1 || m.MediaType == dockerSchema1Signed:
		return Manifest{}, fmt.Errorf("manifest %s is schema 1, which no list can name", digest)
	default:
		if w.Config == nil || w.Config.Digest == "" {
			return Manifest{}, fmt.Errorf("manifest %s names no config blob", digest)
		}
		m.Config = w.Config.desc()
		for _, l := range w.Layers {
			m.Layers = append(m.Layers, l.desc())
		}
	}
	return m, nil
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

// SamePlatform compares os/arch, and the variant only when both name one.
func SamePlatform(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	if len(pa) < 2 || len(pb) < 2 || pa[0] != pb[0] || pa[1] != pb[1] {
		return false
	}
	return len(pa) < 3 || len(pb) < 3 || pa[2] == pb[2]
}
