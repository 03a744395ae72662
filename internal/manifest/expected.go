package manifest

import (
	"errors"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ListOf is Merge over children known only by their list entries (media
// type, digest, size and normalised platform, as a keepalive anchor's
// one-entry list states them), without their bytes. It gives the list the
// merge would publish, byte for byte, so that a registry that answers a
// release tag's HEAD with that digest needs no GET for its bytes: a digest
// names exactly one content. It fails when an entry lacks what the list
// needs, or when a single child would be published as itself (no
// PreferIndex), whose bytes are the child's own.
func ListOf(entries []Descriptor, o MergeOptions) (raw []byte, mediaType, dgst string, err error) {
	if len(entries) == 0 {
		return nil, "", "", errors.New("list: no entries")
	}
	if len(entries) == 1 && !o.PreferIndex {
		return nil, "", "", errors.New("list: a single child is published as itself")
	}
	ordered := append([]Descriptor(nil), entries...)
	if o.Order != OrderMatrix {
		sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].Digest < ordered[j].Digest })
	}
	descs := make([]ocispec.Descriptor, 0, len(ordered))
	seen := map[string]int{}
	for _, e := range ordered {
		p, ok := platformOf(e.Platform)
		if !ok || e.MediaType == "" || e.Size <= 0 || IsList(e.MediaType) {
			return nil, "", "", errors.New("list: an entry states no platform, media type or size")
		}
		d := ocispec.Descriptor{MediaType: e.MediaType, Digest: digest.Digest(e.Digest), Size: e.Size, Platform: &p}
		descs = addEntry(descs, seen, d)
	}
	return writeList(descs)
}

// platformOf reads "os/arch[/variant]" (PlatformString's form) back.
func platformOf(s string) (ocispec.Platform, bool) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, false
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, true
}
