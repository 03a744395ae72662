package repair

import (
	"context"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/manifest"
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
