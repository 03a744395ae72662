package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/scenario/scenariotest"
	"github.com/go-skynet/remerge/internal/testreg"
)

// TestInspectNamesEveryBrokenBackend tries the CLI as a new user would, on
// two live registries seeded like v4.2.2 (anchors in ci-cache, manifests
// reaped from local-ai-backends, some lists published): the JSON names
// every broken backend and no healthy one, and the table fits 100 columns.
func TestInspectNamesEveryBrokenBackend(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := scenariotest.Start(t, scenario.Demo(), testreg.ImageOptions{})
	args := []string{"--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir}

	code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "json"}, args...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitBroken, stderr)
	}
	var rep inspect.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout)
	}
	verdicts := map[string]inspect.Verdict{}
	for _, b := range rep.Backends {
		verdicts[b.Suffix] = b.Verdict
		if b.Verdict != inspect.VerdictOK && len(b.Problems) == 0 {
			t.Errorf("%s is %s without a problem saying why", b.Suffix, b.Verdict)
		}
	}
	for _, b := range f.Backends {
		healthy := b.Fate == scenario.Healthy
		if got := verdicts[b.Suffix]; (got == inspect.VerdictOK) != healthy {
			t.Errorf("%s (%s): verdict %q", b.Suffix, b.Fate, got)
		}
	}
	if rep.Release.Run != f.Release.Run {
		t.Errorf("run %q, want the newest anchored run %s", rep.Release.Run, f.Release.Run)
	}

	code, stdout, _ = runArgs(t, append([]string{"inspect", "--width", "100"}, args...)...)
	if code != exitBroken {
		t.Errorf("table: exit %d", code)
	}
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		if w := ansi.StringWidth(line); w > 100 {
			t.Errorf("table line of %d columns: %q", w, line)
		}
	}
	for _, b := range f.Backends {
		if !strings.Contains(stdout, b.Suffix+" ") {
			t.Errorf("table lacks a row for %s", b.Suffix)
		}
	}
}
