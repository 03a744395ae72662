package inspect

import (
	"reflect"
	"testing"
)

func TestFailureSummary(t *testing.T) {
	t.Parallel()
	refused := "dial tcp 10.1.1.1:443: connect: connection refused"
	r := &Report{Backends: []*BackendReport{
		{Legs: []Leg{{Cells: map[string]Cell{
			"quay.io/a/ci-cache":   {State: CellPresent},
			"quay.io/a/backends":   {State: CellDenied, Error: "UNAUTHORIZED: login"},
			"docker.io/b/backends": {State: CellError, Error: refused},
		}}, {Cells: map[string]Cell{
			"quay.io/a/ci-cache":   {State: CellUnknown}, // not a probe
			"quay.io/a/backends":   {State: CellMissing},
			"docker.io/b/backends": {State: CellError, Error: "timeout"},
		}}}, Targets: map[string]*TargetStatus{
			"dockerhub": {Repo: "docker.io/b/backends", Tags: map[string]TagStatus{
				"v1-a":     {State: TagError, Error: refused},
				"latest-a": {State: TagError, Digest: "sha256:x", Error: "list lies about sizes"}, // judged, not a failure
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
	if got := failureSummary(&Report{}); len(got) != 0 {
		t.Errorf("empty report: %q", got)
	}
}
