package manifest

import (
	"bytes"
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ListOf over the entries a list states gives Merge's bytes over the
// children themselves (Merge is checked against buildx in
// internal/pipeline), in both orders and media types.
func TestListOfIsMerge(t *testing.T) {
	t.Parallel()
	child := func(i int, mt string, p ocispec.Platform) Child {
		raw := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"n":%d}`, mt, i))
		return Child{PlatformTag: p.Architecture, Digest: DigestOf(raw), MediaType: mt, Raw: raw, Platform: p}
	}
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	for _, tt := range []struct {
		name     string
		children []Child
		o        MergeOptions
	}{
		{"docker pair", []Child{child(1, DockerManifest, amd), child(2, DockerManifest, arm)}, DefaultMergeOptions()},
		{"oci pair, matrix order", []Child{child(3, OCIManifest, amd), child(4, OCIManifest, arm)}, MergeOptions{PreferIndex: true, Order: OrderMatrix}},
		{"one entry", []Child{child(5, DockerManifest, amd)}, DefaultMergeOptions()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, wmt, wd, err := Merge(tt.children, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var entries []Descriptor
			for _, c := range tt.children {
				entries = append(entries, Descriptor{MediaType: c.MediaType, Digest: c.Digest, Size: int64(len(c.Raw)), Platform: PlatformString(c.Platform)})
			}
			got, mt, d, err := ListOf(entries, tt.o)
			if err != nil || !bytes.Equal(got, want) || mt != wmt || d != wd {
				t.Errorf("ListOf = %s %s %v\n%s\nwant %s %s\n%s", mt, d, err, got, wmt, wd, want)
			}
		})
	}
	if _, _, _, err := ListOf([]Descriptor{{MediaType: DockerManifest, Digest: DigestOf(nil), Size: 2}}, DefaultMergeOptions()); err == nil {
		t.Error("ListOf over an entry with no platform succeeded")
	}
}
