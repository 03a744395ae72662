package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
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
	var rep release.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout)
	}
	verdicts := map[string]release.Verdict{}
	for _, b := range rep.Backends {
		verdicts[b.Suffix] = b.Verdict
		if b.Verdict != release.VerdictOK && len(b.Problems) == 0 {
			t.Errorf("%s is %s without a problem saying why", b.Suffix, b.Verdict)
		}
	}
	for _, b := range f.Backends {
		healthy := b.Fate == scenario.Healthy
		if got := verdicts[b.Suffix]; (got == release.VerdictOK) != healthy {
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

// TestRepairAllHealsWhatThePipelineBroke is the fidelity issue's end to
// end: a release written by the real pipeline (buildx v0.36.1 anchoring,
// merging in digest order, deleting anchors after good merges; then
// reaping) with every fate of LocalAI's incidents; `repair --all --yes`
// publishes in both targets exactly the digest real buildx printed for each
// repairable backend, under all three tags, with its children in the
// target, and moves no other tag; inspect then calls each of them ok.
func TestRepairAllHealsWhatThePipelineBroke(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := scenariotest.Start(t, scenario.Demo(), testreg.ImageOptions{})
	args := []string{"--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--run", f.Release.Run, "--digests", f.DigestsDir}
	targets := []struct {
		name string
		reg  *testreg.Registry
		repo string
	}{{"quay", f.Quay, scenario.QuayTarget}, {"dockerhub", f.Hub, scenario.HubTarget}}
	snapshot := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, tg := range targets {
			tags, err := tg.reg.Tags(context.Background(), tg.repo)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range tags {
				d, err := tg.reg.Resolve(context.Background(), tg.repo, tag)
				if err != nil {
					t.Fatal(err)
				}
				out[tg.name+" "+tag] = d
			}
		}
		return out
	}
	verdicts := func() map[string]release.Verdict {
		t.Helper()
		code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "json"}, args...)...)
		if code == exitUsage {
			t.Fatalf("inspect: exit %d: %s", code, stderr)
		}
		var rep release.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		out := map[string]release.Verdict{}
		for _, b := range rep.Backends {
			out[b.Suffix] = b.Verdict
		}
		return out
	}

	before, tagsBefore := verdicts(), snapshot()
	code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl")}, args...)...)
	if code != exitBroken {
		t.Fatalf("repair --all: exit %d, want %d (unrepairable, conflict and unknown backends are left); stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	tagsAfter, after := snapshot(), verdicts()

	moved := map[string]string{} // "target tag" -> the digest it must hold now
	for _, b := range f.Backends {
		if before[b.Suffix] != release.VerdictRepairable {
			if after[b.Suffix] != before[b.Suffix] {
				t.Errorf("%s (%s): %s before, %s after: --all must leave it alone", b.Suffix, b.Fate, before[b.Suffix], after[b.Suffix])
			}
			continue
		}
		if after[b.Suffix] != release.VerdictOK {
			t.Errorf("%s (%s): %s after repair --all, want ok", b.Suffix, b.Fate, after[b.Suffix])
		}
		want := f.Lists[b.Suffix]
		for _, tg := range targets {
			for _, tag := range []string{f.Release.Ref + b.Suffix, "sha-" + f.Release.SHA[:7] + b.Suffix, "latest" + b.Suffix} {
				moved[tg.name+" "+tag] = want
				if got := tagsAfter[tg.name+" "+tag]; got != want {
					t.Errorf("%s %s -> %s, want the digest buildx printed for it, %s", tg.name, tag, got, want)
				}
			}
			for _, img := range f.Images[b.Suffix] {
				if ok, err := tg.reg.ManifestExists(context.Background(), tg.repo, img.Digest); err != nil || !ok {
					t.Errorf("%s: child %s not in %s (%v)", b.Suffix, img.Digest, tg.name, err)
				}
			}
		}
	}
	for key, d := range tagsAfter {
		if _, ok := moved[key]; !ok && tagsBefore[key] != d {
			t.Errorf("%s moved from %q to %s; it belongs to no repaired backend", key, tagsBefore[key], d)
		}
	}
	for key, d := range tagsBefore {
		if tagsAfter[key] == "" {
			t.Errorf("%s (was %s) is gone", key, d)
		}
	}
	if len(moved) == 0 {
		t.Fatal("no backend was repairable: the scenario lost its point")
	}
}
