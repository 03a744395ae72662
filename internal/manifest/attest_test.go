package manifest

import (
	"strings"
	"testing"
)

// attestedIndex is buildkit's index for one platform: image c, then its
// attestation manifest a.
func attestedIndex(c, a byte, platform string) Manifest {
	raw := `{"schemaVersion":2,"mediaType":"` + OCIIndex + `","manifests":[` +
		`{"mediaType":"` + OCIManifest + `","digest":"` + d(c) + `","size":10,"platform":` + platformJSON(platform) + `},` +
		`{"mediaType":"` + OCIManifest + `","digest":"` + d(a) + `","size":20,"annotations":{"vnd.docker.reference.digest":"` + d(c) +
		`","vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}]}`
	m, err := Parse([]byte(raw), "", "")
	if err != nil {
		panic(err)
	}
	return m
}

func platformJSON(p string) string {
	parts := strings.Split(p, "/")
	s := `{"os":"` + parts[0] + `","architecture":"` + parts[1] + `"`
	if len(parts) == 3 {
		s += `,"variant":"` + parts[2] + `"`
	}
	return s + "}"
}

func TestAttested(t *testing.T) {
	m := attestedIndex('a', 'b', "linux/arm/v7")
	img, err := Attested(m)
	if err != nil || img.Digest != d('a') || img.Platform != "linux/arm/v7" {
		t.Fatalf("Attested = %+v, %v; want the arm/v7 image %s", img, err, d('a'))
	}
	if m.Entries[1].AttestationOf != d('a') {
		t.Errorf("attestation entry %+v does not say it is about %s", m.Entries[1], d('a'))
	}
	two := Manifest{Digest: d('f'), MediaType: OCIIndex, Entries: []Descriptor{entry('a', 1, "linux/amd64"), entry('b', 1, "linux/arm64")}}
	if _, err := Attested(two); err == nil || !strings.Contains(err.Error(), "two images") {
		t.Errorf("a list of two images: %v", err)
	}
	if _, err := Attested(Manifest{Digest: d('f'), MediaType: OCIIndex, Entries: []Descriptor{entry('a', 1, "linux/amd64")}}); err == nil {
		t.Error("a one-entry list read as an attested build")
	}
	other := attestedIndex('a', 'b', "linux/amd64")
	other.Entries[1].AttestationOf = d('c')
	if _, err := Attested(other); err == nil || !strings.Contains(err.Error(), "not its image") {
		t.Errorf("an attestation of another image: %v", err)
	}
}

// The judge of a release of attested builds wants every manifest of each
// build's index: the list buildx writes is complete; a list of the images
// alone, or one lacking an attestation, is partial; another release's is
// stale.
func TestJudgeAttested(t *testing.T) {
	amd, arm := attestedIndex('a', 'b', "linux/amd64"), attestedIndex('c', 'e', "linux/arm64")
	var want []Expected
	for _, m := range []Manifest{amd, arm} {
		want = append(want, ExpectedOf(m.Digest, "ignored", &m)...)
	}
	if len(want) != 4 || want[1].Platform != "unknown/unknown" {
		t.Fatalf("ExpectedOf: %+v", want)
	}
	present := func(string) ChildState { return ChildState{Presence: Present, Size: -1} }
	pub := func(es ...Descriptor) Manifest { return Manifest{Digest: d('f'), MediaType: OCIIndex, Entries: es} }
	all := append(append([]Descriptor(nil), amd.Entries...), arm.Entries...)
	for _, tt := range []struct {
		name string
		m    Manifest
		want State
	}{
		{"as buildx writes it", pub(all...), Complete},
		{"images only", pub(amd.Entries[0], arm.Entries[0]), Partial},
		{"one attestation lacking", pub(all[:3]...), Partial},
		{"another release", pub(entry('7', 1, "linux/amd64"), entry('8', 1, "linux/arm64")), Stale},
	} {
		if j := Judge(tt.m, want, present); j.State != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, j.State, j.Reason, tt.want)
		}
	}
	if got := ExpectedOf(d('9'), "linux/amd64", nil); len(got) != 1 || got[0] != (Expected{Digest: d('9'), Platform: "linux/amd64"}) {
		t.Errorf("ExpectedOf an image: %+v", got)
	}
}
