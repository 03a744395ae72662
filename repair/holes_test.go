package repair

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// A latest tag naming a list that names no child does not parse: repair
// judges it as inspect does (could not tell; one judge,
// manifest.Unparseable) and refuses to plan over it. On 4da49be it was
// "broken, replace it", and the latest path then read its labels from
// Entries[0]: a panic in the write path (issue 18, items 9 and 10).
func TestPlanOverUnparseableLatestIsUnknown(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	_, _, latest := tagNames(w)
	empty := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	if err := w.quay.PutManifest(context.Background(), quayPath, latest, empty, manifest.OCIIndex); err != nil {
		t.Fatalf("the registry refused an empty index: %v", err)
	}
	p, err := NewPlan(context.Background(), w.c, w.cfg, w.rel, w.incidentReport(), "quay")
	if err == nil {
		t.Fatalf("planned over an unparseable latest:\n%s", p)
	}
	if !strings.Contains(err.Error(), "names no child") || !strings.Contains(err.Error(), "could not tell") {
		t.Errorf("error %q, want could-not-tell saying why", err)
	}
}

// --sign on a branch release whose branch tag holds another complete build
// (left alone: the branch went on) signs what this run published, never
// that other build (issue 18, item 6: on 4da49be it signed it too). Real
// cosign, with a key pair and no transparency log.
func TestSignSkipsAnotherBuildOfTheBranch(t *testing.T) {
	kit := tools.NewCosignKit(t)
	t.Setenv("COSIGN_PASSWORD", tools.CosignPassword)
	w := newWorld(t)
	w.rel = release.Release{Ref: "master", SHA: "abc1234def"}
	w.incident(t)
	_, sha, _ := tagNames(w)
	branch := "master" + testSuffix
	w.publishOther(t, []string{branch}, 21)
	other := resolve(t, w.quay, quayPath, branch)
	p := w.plan(t, w.incidentReport(), "quay")
	if tm := findTag(p, branch); tm.Skip == "" || tm.From != other {
		t.Fatalf("branch tag %+v, want left on the other build\n%s", tm, p)
	}
	if tm := findTag(p, sha); !tm.Pending() {
		t.Fatalf("sha tag %+v, want moved\n%s", tm, p)
	}
	signer := &Signer{Path: kit.Bin, Key: kit.Key, Args: []string{"--tlog-upload=false", "--allow-http-registry"}}
	r := w.execute(t, p, WithSign(signer))
	if !r.Signed || slices.Contains(r.SignedDigests, other) || !slices.Contains(r.SignedDigests, p.ListDigest) {
		t.Errorf("signed %v (signed %v), want the list written (%s) and not the other build (%s)", r.SignedDigests, r.Signed, p.ListDigest, other)
	}
}
