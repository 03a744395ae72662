package tui

import (
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestPullsLeft: the header shows the pulls left at a registry that
// states a quota; ctrl+r first says a re-inspection would spend more than
// are left (the last one's pulls are the estimate) and starts only on a
// second press; R says it over its confirmation.
func TestPullsLeft(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 120, 30)
	m.report.Registries = map[string]release.RegistryBudget{
		"docker.io": {PullsLeft: 3, PullsLimit: 100, WindowSeconds: 21600, PullsSpent: 10, Message: "Docker Hub: 3 of 100 per 6 h left"},
	}
	if h := m.header(); !strings.Contains(h, "docker.io 3/100 pulls") {
		t.Errorf("header does not show the pulls left:\n%s", h)
	}
	old := m.inspectID
	m, _ = press(t, m, "ctrl+r")
	if m.inspectID != old || !strings.Contains(m.statusBar.text, "docker.io: the last inspection spent 10 pulls, 3 are left") {
		t.Fatalf("first ctrl+r: inspect id %d (was %d), status %q; want a warning and no inspection", m.inspectID, old, m.statusBar.text)
	}
	m, _ = press(t, m, "ctrl+r")
	if m.inspectID != old+1 {
		t.Errorf("second ctrl+r did not re-inspect (id %d, was %d)", m.inspectID, old)
	}
	m.report.Registries = map[string]release.RegistryBudget{
		"docker.io": {PullsLeft: 0, PullsLimit: 100, QuotaSpent: true, Message: "Docker Hub pull limit reached (0 of 100 per 6 h left): log in with `docker login`, or wait"},
	}
	m, _ = press(t, m, "R")
	if !strings.Contains(m.statusBar.text, "re-merging everything would spend more pulls than are left: Docker Hub pull limit reached") {
		t.Errorf("R: status %q, want the quota named", m.statusBar.text)
	}
	if h := m.header(); !strings.Contains(h, "docker.io pull limit reached") {
		t.Errorf("header does not say the limit is reached:\n%s", h)
	}
}
