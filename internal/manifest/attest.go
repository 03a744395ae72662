package manifest

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
)

// The annotations buildkit puts on an attestation manifest's entry in a
// build's index (moby/buildkit util/attestation): which image it is about.
const (
	annotationRefType   = "vnd.docker.reference.type"
	annotationRefDigest = "vnd.docker.reference.digest"
	refTypeAttestation  = "attestation-manifest"
)

// Attested reads an attested build: the OCI index buildkit pushes for one
// platform when attestations are on (build-push-action's default
// provenance, SBOMs), naming the platform's image manifest and the
// attestation manifests about it. It returns the image's entry, whose
// platform is the leg's. Anything else (a list of several images, an
// entry that is neither the image nor an attestation of it) is an error:
// it is not one platform's build.
func Attested(m Manifest) (Descriptor, error) {
	if !m.IsList() {
		return Descriptor{}, fmt.Errorf("%s is not a list", Short(m.Digest))
	}
	var image *Descriptor
	for i, e := range m.Entries {
		if e.AttestationOf != "" {
			continue
		}
		if image != nil {
			return Descriptor{}, fmt.Errorf("%s names two images (%s, %s), not one platform's image and its attestations", Short(m.Digest), image.Platform, e.Platform)
		}
		image = &m.Entries[i]
	}
	switch {
	case image == nil:
		return Descriptor{}, fmt.Errorf("%s names attestations but no image", Short(m.Digest))
	case IsList(image.MediaType) || image.Platform == "" || image.Platform == "unknown/unknown":
		return Descriptor{}, fmt.Errorf("%s names no image of one platform", Short(m.Digest))
	}
	if len(m.Entries) == 1 {
		// A one-entry list (an anchor, or a merge over one image) is no
		// build's index.
		return Descriptor{}, fmt.Errorf("%s is a one-entry list naming no attestation", Short(m.Digest))
	}
	for _, e := range m.Entries {
		if e.AttestationOf != "" && e.AttestationOf != image.Digest {
			return Descriptor{}, fmt.Errorf("%s names an attestation of %s, which is not its image %s", Short(m.Digest), Short(e.AttestationOf), Short(image.Digest))
		}
	}
	return *image, nil
}

// ExpectedOf is what a leg puts into the merged list: its own digest, or
// for an attested build (index, read with Parse; nil when the leg is an
// image) every manifest the index names, as buildx lists them.
func ExpectedOf(digest, platform string, index *Manifest) []Expected {
	if index == nil || !index.IsList() {
		return []Expected{{Digest: digest, Platform: platform}}
	}
	out := make([]Expected, 0, len(index.Entries))
	for _, e := range index.Entries {
		out = append(out, Expected{Digest: e.Digest, Platform: e.Platform})
	}
	return out
}

// NormalizePlatform parses os/arch[/variant] and formats it as buildx
// writes it in a list (containerd's normalisation: aarch64 -> arm64,
// arm64/v8 -> arm64). A platform that does not parse is an error.
func NormalizePlatform(s string) (string, error) {
	if strings.Count(s, "/") < 1 || strings.Count(s, "/") > 2 {
		return "", fmt.Errorf("want os/architecture[/variant]")
	}
	return normalizePlatform(s)
}

// NormalPlatform normalises os/arch[/variant] as containerd does (arm64
// v8 becomes arm64), to match a list entry's platform with a leg's;
// what does not parse is returned as it is.
func NormalPlatform(s string) string {
	n, err := normalizePlatform(s)
	if err != nil {
		return s
	}
	return n
}

func normalizePlatform(s string) (string, error) {
	p, err := platforms.Parse(s)
	if err != nil {
		return "", err
	}
	return PlatformString(platforms.Normalize(p)), nil
}
