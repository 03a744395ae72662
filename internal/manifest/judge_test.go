package manifest

import (
	"fmt"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func d(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func list(entries ...Descriptor) Manifest {
	return Manifest{Digest: d('f'), MediaType: DockerList, Entries: entries}
}

func entry(c byte, size int64, platform string) Descriptor {
	return Descriptor{MediaType: DockerManifest, Digest: d(c), Size: size, Platform: platform}
}

func TestJudge(t *testing.T) {
	amd, arm := Expected{Digest: d('a'), Platform: "linux/amd64"}, Expected{Digest: d('b'), Platform: "linux/arm64"}
	present := func(size int64) ChildState {
		return ChildState{Presence: Present, Size: size, MediaType: DockerManifest}
	}
	all := func(cs ChildState) func(string) ChildState { return func(string) ChildState { return cs } }
	tests := []struct {
		name   string
		m      Manifest
		want   []Expected
		child  func(string) ChildState
		state  State
		form   string
		reason string
	}{
		{"list of both, present", list(entry('a', 10, "linux/amd64"), entry('b', 10, "linux/arm64")), []Expected{amd, arm}, all(present(10)), Complete, "list of 2", ""},
		{"order does not matter", list(entry('b', 10, "linux/arm64"), entry('a', 10, "linux/amd64")), []Expected{amd, arm}, all(present(10)), Complete, "list of 2", ""},
		{"one-entry list of the one leg", list(entry('a', 10, "linux/amd64")), []Expected{amd}, all(present(10)), Complete, "one-entry list", ""},
		{"bare manifest of the one leg", Manifest{Digest: d('a'), MediaType: DockerManifest}, []Expected{amd}, nil, Complete, "bare manifest", ""},
		{"bare manifest of one of two legs", Manifest{Digest: d('a'), MediaType: DockerManifest}, []Expected{amd, arm}, nil, Partial, "bare manifest", "bare manifest of one leg"},
		{"one of two", list(entry('a', 10, "linux/amd64")), []Expected{amd, arm}, nil, Partial, "one-entry list", "only some"},
		{"ours and another", list(entry('a', 10, "linux/amd64"), entry('c', 10, "linux/arm64")), []Expected{amd, arm}, nil, Partial, "list of 2", "and others"},
		{"other digests", list(entry('c', 10, "linux/amd64"), entry('e', 10, "linux/arm64")), []Expected{amd, arm}, nil, Stale, "list of 2", "other digests"},
		{"a child reaped", list(entry('a', 10, "linux/amd64"), entry('b', 10, "linux/arm64")), []Expected{amd, arm},
			func(s string) ChildState {
				if s == d('b') {
					return ChildState{Presence: Absent}
				}
				return present(10)
			}, Dangling, "list of 2", "missing in that repo"},
		{"a child's probe failed", list(entry('a', 10, "linux/amd64"), entry('b', 10, "linux/arm64")), []Expected{amd, arm},
			func(s string) ChildState {
				if s == d('b') {
					return ChildState{Presence: Unanswered, Err: "429 Too Many Requests (throttled)"}
				}
				return present(10)
			}, Unknown, "list of 2", "429"},
		{"a reaped child outranks an unanswered one", list(entry('a', 10, "linux/amd64"), entry('b', 10, "linux/arm64")), []Expected{amd, arm},
			func(s string) ChildState {
				if s == d('b') {
					return ChildState{Presence: Absent}
				}
				return ChildState{Presence: Unanswered, Err: "timeout"}
			}, Dangling, "list of 2", "missing"},
		{"sizes lie", list(entry('a', 11, "linux/amd64"), entry('b', 10, "linux/arm64")), []Expected{amd, arm}, all(present(10)), Broken, "list of 2", "size of 11"},
		{"no size", list(entry('a', -1, "linux/amd64")), []Expected{amd}, all(present(10)), Broken, "one-entry list", "no size"},
		{"platform swapped", list(entry('a', 10, "linux/arm64"), entry('b', 10, "linux/amd64")), []Expected{amd, arm}, all(present(10)), Broken, "list of 2", "it is the linux/amd64 leg"},
		{"no platform", list(entry('a', 10, "")), []Expected{amd}, all(present(10)), Broken, "one-entry list", "no platform"},
		{"media type lies", list(Descriptor{MediaType: OCIManifest, Digest: d('a'), Size: 10, Platform: "linux/amd64"}), []Expected{amd}, all(present(10)), Broken, "one-entry list", "media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Judge(tt.m, tt.want, tt.child)
			if j.State != tt.state || j.Form != tt.form || !strings.Contains(j.Reason, tt.reason) {
				t.Errorf("Judge = %+v, want %s %q with %q", j, tt.state, tt.form, tt.reason)
			}
		})
	}
}

func TestParse(t *testing.T) {
	good := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":3,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`, DockerList, DockerManifest, d('a'))
	m, err := Parse([]byte(good), "", "")
	if err != nil || !m.IsList() || len(m.Entries) != 1 || m.Entries[0].Platform != "linux/arm64/v8" || m.Entries[0].Size != 3 || m.Digest != DigestOf([]byte(good)) {
		t.Fatalf("Parse = %+v, %v", m, err)
	}
	for _, bad := range []string{`not json`, `{"mediaType":"` + DockerList + `","manifests":[]}`, `{"schemaVersion":2,"mediaType":"` + DockerManifest + `"}`,
		`{"manifests":[{"digest":"md5:x"}]}`, `{"schemaVersion":1,"fsLayers":[{}]}`} {
		if _, err := Parse([]byte(bad), "", ""); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
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
		{`{"os":"windows","architecture":"amd64","os.version":"10.0.17763.1"}`, "windows/amd64", false},
		{`{"architecture":"amd64"}`, "", true},
		{`not json`, "", true},
	}
	for _, tt := range tests {
		p, err := ConfigPlatform([]byte(tt.config))
		if (err != nil) != tt.wantErr || err == nil && PlatformString(p) != tt.want {
			t.Errorf("ConfigPlatform(%s) = %s, %v; want %s", tt.config, PlatformString(p), err, tt.want)
		}
		if p.OSVersion != "" {
			t.Errorf("os.version must not reach the list: %+v", p)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	raw := []byte(`{"schemaVersion":2}`)
	good := Child{PlatformTag: "amd64", Digest: DigestOf(raw), MediaType: DockerManifest, Raw: raw, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
	for _, tt := range []struct {
		name string
		edit func(*Child)
		want string
	}{
		{"bytes not the digest", func(c *Child) { c.Raw = []byte("x") }, "hash to"},
		{"schema1", func(c *Child) { c.MediaType = DockerSchema1 }, "schema1"},
		{"nested list", func(c *Child) { c.MediaType = DockerList }, "names no child"},
		{"a list of two images, not an attested build", func(c *Child) {
			c.Raw = []byte(`{"schemaVersion":2,"manifests":[` +
				`{"mediaType":"` + OCIManifest + `","digest":"sha256:` + strings.Repeat("a", 64) + `","size":1,"platform":{"os":"linux","architecture":"amd64"}},` +
				`{"mediaType":"` + OCIManifest + `","digest":"sha256:` + strings.Repeat("b", 64) + `","size":1,"platform":{"os":"linux","architecture":"arm64"}}]}`)
			c.Digest, c.MediaType = DigestOf(c.Raw), OCIIndex
		}, "names two images"},
		{"no platform", func(c *Child) { c.Platform = ocispec.Platform{} }, "no platform"},
	} {
		c := good
		tt.edit(&c)
		if _, _, _, err := Merge([]Child{c}, DefaultMergeOptions()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, _, _, err := Merge(nil, DefaultMergeOptions()); err == nil {
		t.Error("merged no children")
	}
}
