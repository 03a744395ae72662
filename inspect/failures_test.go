package inspect

import (
	"reflect"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

func TestFailureSummary(t *testing.T) {
	t.Parallel()
	refused := "dial tcp 10.1.1.1:443: connect: connection refused"
	r := &release.Report{Backends: []*release.BackendReport{
		{Legs: []release.Leg{{Cells: map[string]release.Cell{
			"quay.io/a/ci-cache":   {State: release.CellPresent},
			"quay.io/a/backends":   {State: release.CellDenied, Error: "UNAUTHORIZED: login"},
			"docker.io/b/backends": {State: release.CellError, Error: refused},
		}}, {Cells: map[string]release.Cell{
			"quay.io/a/ci-cache":   {State: release.CellUnknown}, // not a probe
			"quay.io/a/backends":   {State: release.CellMissing},
			"docker.io/b/backends": {State: release.CellError, Error: "timeout"},
		}}}, Targets: map[string]*release.TargetStatus{
			"dockerhub": {Repo: "docker.io/b/backends", Tags: map[string]release.TagStatus{
				"v1-a":     {State: release.TagError, Error: refused},
				"latest-a": {State: release.TagError, Digest: "sha256:x", Error: "list lies about sizes"}, // judged, not a failure
			}},
		}},
	}}
	want := []string{
		"docker.io: 3 of 4 probes failed: " + refused,
		"quay.io: 1 of 3 probes denied: UNAUTHORIZED: login (credentials come from the Docker config: docker login quay.io)",
	}
	if got := failureSummary(r); !reflect.DeepEqual(got, want) {
		t.Errorf("failureSummary =\n%q\nwant\n%q", got, want)
	}
	if got := failureSummary(&release.Report{}); len(got) != 0 {
		t.Errorf("empty report: %q", got)
	}
}
