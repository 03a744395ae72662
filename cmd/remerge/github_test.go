package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// ciRelease is a v4.2.2-shaped release with one backend of each kind of
// damage the CI faces must tell apart: reaped in quay with latest stale
// there, reaped with no earlier release (latest missing), and lost.
func ciRelease(t *testing.T) (*scenariotest.Fixture, []string) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-ok", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-reaped", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-new", Kind: release.KindSingle, Fate: scenario.Reaped, NoPrevious: true},
		{Suffix: "-cpu-lost", Kind: release.KindMultiarch, Fate: scenario.Lost},
	}, testreg.ImageOptions{})
	return f, []string{"--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--run", f.Release.Run, "--digests", f.DigestsDir}
}

// githubEnv points GITHUB_STEP_SUMMARY and GITHUB_OUTPUT at files that
// already hold an earlier step's lines, as on a runner.
func githubEnv(t *testing.T) (summary, output string) {
	t.Helper()
	dir := t.TempDir()
	summary, output = filepath.Join(dir, "summary.md"), filepath.Join(dir, "output")
	for _, p := range []string{summary, output} {
		if err := os.WriteFile(p, []byte("earlier=step\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	t.Setenv("GITHUB_OUTPUT", output)
	return summary, output
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInspectGitHubFormat runs inspect --format github over the broken
// release: an error annotation per broken backend, a warning per stale or
// missing latest, the markdown appended to the step summary, the counts
// appended to the step outputs, the JSON in --json-file, exit 1.
func TestInspectGitHubFormat(t *testing.T) {
	_, args := ciRelease(t)
	summary, output := githubEnv(t)
	jsonFile := filepath.Join(t.TempDir(), "report.json")

	code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "github", "--json-file", jsonFile}, args...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitBroken, stderr)
	}
	for _, want := range []string{
		"::error title=-cpu-reaped (repairable)::",
		"::error title=-cpu-new (repairable)::",
		"::error title=-cpu-lost (unrepairable)::",
		"::warning title=-cpu-reaped user-facing tag::latest-cpu-reaped in quay: stale",
		"::warning title=-cpu-new user-facing tag::latest-cpu-new in quay: missing",
		"::notice title=remerge v4.2.2 (run ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// The healthy backend is published unsigned: a warning, never an error.
	if strings.Contains(stdout, "::error title=-cpu-ok") || !strings.Contains(stdout, "::warning title=-cpu-ok (ok)::v4.2.2-cpu-ok in quay: published but unsigned") {
		t.Errorf("the healthy backend is not annotated as only unsigned:\n%s", stdout)
	}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if !strings.HasPrefix(line, "::") {
			t.Errorf("stdout line is not a workflow command: %q", line)
		}
	}

	sum := readFile(t, summary)
	if !strings.HasPrefix(sum, "earlier=step\n") || !strings.Contains(sum, "### remerge: v4.2.2") || !strings.Contains(sum, "`-cpu-lost` | unrepairable") {
		t.Errorf("step summary not appended with the markdown report:\n%s", sum)
	}
	out := readFile(t, output)
	if !strings.HasPrefix(out, "earlier=step\n") || !strings.Contains(out, "\nok=1\nrepairable=2\nunrepairable=1\nconflict=0\nunknown=0\nnot_built=0\nbroken=true\n") {
		t.Errorf("step outputs:\n%s", out)
	}
	var rep release.Report
	if err := json.Unmarshal([]byte(readFile(t, jsonFile)), &rep); err != nil {
		t.Fatalf("--json-file: %v", err)
	}
	if rep.Summary != (release.Summary{OK: 1, Repairable: 2, Unrepairable: 1}) {
		t.Errorf("--json-file summary %+v", rep.Summary)
	}
}

// TestFailOnGate: --fail-on answers only for user-facing tags and the
// conditions named. Over the same broken release, stale-latest fails on the
// stale latests only (the lost backend's too: latest still on v4.2.1),
// missing on the one with no earlier release only, and broken (partial
// or dangling) passes although backends are not ok: the gate, not the
// verdicts, decides the exit code.
func TestFailOnGate(t *testing.T) {
	_, args := ciRelease(t)
	tests := []struct {
		failOn string
		code   int
		want   []string // stderr lines, in order
	}{
		{"stale-latest", exitBroken, []string{
			"remerge: --fail-on: -cpu-reaped: latest-cpu-reaped in quay is stale (stale-latest)",
			"remerge: --fail-on: -cpu-lost: latest-cpu-lost in dockerhub is stale (stale-latest)",
			"remerge: --fail-on: -cpu-lost: latest-cpu-lost in quay is stale (stale-latest)",
		}},
		{"missing", exitBroken, []string{
			"remerge: --fail-on: -cpu-new: latest-cpu-new in quay is missing (missing)",
		}},
		{"broken", exitOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.failOn, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "json", "--fail-on", tt.failOn}, args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			var got []string
			if s := strings.TrimSuffix(stderr, "\n"); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stderr\n%s\nwant\n%s", stderr, strings.Join(tt.want, "\n"))
			}
			if !json.Valid([]byte(stdout)) {
				t.Errorf("stdout is not the JSON report: %q", stdout)
			}
		})
	}
}

// TestGitHubFilesChecked: a step-summary or output path that cannot be
// appended to is an input error named by its variable, before any registry
// is contacted (the matrix here names no reachable registry).
func TestGitHubFilesChecked(t *testing.T) {
	dir := t.TempDir() // a directory: opening it for append fails
	for _, v := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
		for _, cmd := range [][]string{{"inspect", "--format", "github"}, {"repair", "--all", "--format", "github"}} {
			t.Run(v+"/"+cmd[0], func(t *testing.T) {
				t.Setenv("DOCKER_CONFIG", t.TempDir())
				t.Setenv(v, dir)
				code, stdout, stderr := runArgs(t, append(cmd, "--release", "v1", "--matrix=testdata/matrix.yml")...)
				if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "remerge: "+v+": ") || strings.Count(stderr, "\n") != 1 {
					t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
				}
			})
		}
	}
}

// TestRepairGitHubFormat re-merges the repairable backend and names the
// lost one: an error annotation says what is left broken and why, the step
// summary gets a repair section, and the exit code is 1.
func TestRepairGitHubFormat(t *testing.T) {
	_, args := ciRelease(t)
	summary, _ := githubEnv(t)
	code, stdout, stderr := runArgs(t, append([]string{"repair", "--yes", "--format", "github", "--audit", filepath.Join(t.TempDir(), "a.jsonl"),
		"cpu-reaped", "cpu-lost"}, args...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	for _, want := range []string{
		"::error title=remerge repair v4.2.2::left broken: -cpu-lost: unrepairable: rebuild the arm64 ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "left broken: -cpu-reaped") {
		t.Errorf("the repairable backend is left broken:\n%s", stdout)
	}
	sum := readFile(t, summary)
	if !strings.Contains(sum, "### remerge repair: v4.2.2") || !strings.Contains(sum, "- -cpu-lost: unrepairable: rebuild the arm64 ") {
		t.Errorf("step summary:\n%s", sum)
	}

	// The repaired backend now passes inspect; the run says so with a notice.
	code, stdout, stderr = runArgs(t, append([]string{"repair", "--yes", "--format", "github", "--audit", filepath.Join(t.TempDir(), "a.jsonl"),
		"cpu-reaped"}, args...)...)
	if code != exitOK || !strings.Contains(stdout, "::notice title=remerge repair v4.2.2::every selected backend is ok") {
		t.Errorf("second run: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
}
