package repair

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenListDigest pins the digest of testdata/docker-list.golden, so a
// careless -update cannot move the bytes CI would have produced.
const goldenListDigest = "sha256:d9972ecea4f56f2d8c9297927db8ebaf66456b2339935576a6830293307a35cd"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureChild builds a child from the testdata manifest and config of one
// architecture, as NewPlan would from a registry.
func fixtureChild(t *testing.T, arch string) Child {
	t.Helper()
	raw := readTestdata(t, arch+".manifest.json")
	p, err := ConfigPlatform(readTestdata(t, arch+".config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return Child{PlatformTag: arch, Digest: DigestOf(raw), MediaType: ManifestMediaType("", raw), Raw: raw, Platform: p}
}

func TestBuildListGolden(t *testing.T) {
	children := []Child{fixtureChild(t, "amd64"), fixtureChild(t, "arm64")}
	raw, mt, dgst, err := BuildList(children)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "docker-list.golden")
	if *update {
		if err := os.WriteFile(golden, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readTestdata(t, "docker-list.golden")
	if !bytes.Equal(raw, want) {
		t.Errorf("list bytes differ from golden:\n got: %s\nwant: %s", raw, want)
	}
	if mt != MediaTypeDockerList {
		t.Errorf("media type = %s, want Docker manifest list", mt)
	}
	if dgst != goldenListDigest || DigestOf(want) != goldenListDigest {
		t.Errorf("digest = %s (golden file %s), want %s", dgst, DigestOf(want), goldenListDigest)
	}
	if bytes.HasSuffix(raw, []byte("\n")) {
		t.Error("buildx writes no trailing newline")
	}
	if bytes.Contains(raw, []byte(`"variant"`)) {
		t.Error("arm64 variant v8 must be normalised away")
	}
	if bytes.Contains(raw, []byte("annotations")) {
		t.Error("buildx writes no annotations")
	}
	// Field order is buildx's (image-spec's), not go-containerregistry's.
	for _, pair := range [][2]string{{`"schemaVersion"`, `"mediaType"`}, {`"mediaType"`, `"manifests"`}, {`"digest"`, `"size"`}, {`"size"`, `"platform"`}, {`"architecture"`, `"os"`}} {
		if i, j := bytes.Index(raw, []byte(pair[0])), bytes.Index(raw, []byte(pair[1])); i < 0 || j < 0 || i > j {
			t.Errorf("%s must come before %s", pair[0], pair[1])
		}
	}
}

func TestBuildListMediaType(t *testing.T) {
	oci := func(c Child) Child {
		c.Raw = bytes.Replace(c.Raw, []byte(MediaTypeDockerManifest), []byte(ocispec.MediaTypeImageManifest), 1)
		c.Digest = DigestOf(c.Raw)
		c.MediaType = ManifestMediaType("", c.Raw)
		return c
	}
	amd, arm := fixtureChild(t, "amd64"), fixtureChild(t, "arm64")
	tests := []struct {
		name     string
		children []Child
		want     string
	}{
		{"all docker", []Child{amd, arm}, MediaTypeDockerList},
		{"all oci", []Child{oci(amd), oci(arm)}, ocispec.MediaTypeImageIndex},
		{"mixed", []Child{amd, oci(arm)}, ocispec.MediaTypeImageIndex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, mt, dgst, err := BuildList(tt.children)
			if err != nil {
				t.Fatal(err)
			}
			if mt != tt.want {
				t.Errorf("media type = %s, want %s", mt, tt.want)
			}
			if !bytes.Contains(raw, []byte(`"mediaType": "`+tt.want+`"`)) {
				t.Errorf("list does not carry its media type:\n%s", raw)
			}
			if dgst != DigestOf(raw) {
				t.Errorf("digest %s is not the digest of the bytes", dgst)
			}
		})
	}
}

func TestConfigPlatform(t *testing.T) {
	tests := []struct {
		config  string
		want    string
		wantErr bool
	}{
		{`{"os":"linux","architecture":"amd64"}`, "linux/amd64", false},
		{`{"os":"linux","architecture":"x86_64"}`, "linux/amd64", false},
		{`{"os":"linux","architecture":"arm64","variant":"v8"}`, "linux/arm64", false},
		{`{"os":"linux","architecture":"aarch64"}`, "linux/arm64", false},
		{`{"os":"linux","architecture":"arm"}`, "linux/arm/v7", false},
		{`{"os":"Linux","architecture":"arm","variant":"6"}`, "linux/arm/v6", false},
		{`{"os":"windows","architecture":"amd64","os.version":"10.0.17763.1"}`, "windows/amd64", false},
		{`{"architecture":"amd64"}`, "", true},
		{`not json`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			p, err := ConfigPlatform([]byte(tt.config))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := PlatformString(p); got != tt.want {
				t.Errorf("platform = %s, want %s", got, tt.want)
			}
			if p.OSVersion != "" || p.OSFeatures != nil {
				t.Errorf("os.version/os.features must not reach the list: %+v", p)
			}
		})
	}
}

func TestBuildListRefuses(t *testing.T) {
	good := fixtureChild(t, "amd64")
	tests := []struct {
		name   string
		mutate func(*Child)
		want   string
	}{
		{"bytes do not match digest", func(c *Child) { c.Raw = append(bytes.Clone(c.Raw), ' ') }, "hash to"},
		{"schema1", func(c *Child) { c.MediaType = MediaTypeDockerSchema1 }, "schema1"},
		{"nested list", func(c *Child) { c.MediaType = MediaTypeDockerList }, "itself a list"},
		{"no platform", func(c *Child) { c.Platform = ocispec.Platform{} }, "no platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			_, _, _, err := BuildList([]Child{c, fixtureChild(t, "arm64")})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestMergeSingleIsTheManifestItself(t *testing.T) {
	c := fixtureChild(t, "amd64")
	raw, mt, dgst, err := Merge([]Child{c})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, c.Raw) || mt != MediaTypeDockerManifest || dgst != c.Digest {
		t.Errorf("single source must be published as itself: mt=%s digest=%s", mt, dgst)
	}
}

func TestBuildListMergesRepeatedDigest(t *testing.T) {
	amd := fixtureChild(t, "amd64")
	raw, _, _, err := BuildList([]Child{amd, amd})
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte(amd.Digest)); n != 1 {
		t.Errorf("digest listed %d times, want 1 (buildx merges repeats)", n)
	}
}
