package actiontest

import (
	"context"
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

// brokenRelease seeds a v4.2.2-shaped release: one healthy backend, one
// reaped from quay with latest stale there, one new backend reaped (latest
// missing), and, unless healable, one lost (a child present nowhere).
func brokenRelease(t *testing.T, healable bool) *scenariotest.Fixture {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	backends := []scenario.Backend{
		{Suffix: "-cpu-ok", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-reaped", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-new", Kind: release.KindSingle, Fate: scenario.Reaped, NoPrevious: true},
	}
	if !healable {
		backends = append(backends, scenario.Backend{Suffix: "-cpu-lost", Kind: release.KindMultiarch, Fate: scenario.Lost})
	}
	return scenariotest.Start(t, backends, testreg.ImageOptions{})
}

// healed reports whether quay's release tag of suffix names the list a
// correct merge publishes, and every child of it is back in quay.
func healed(t *testing.T, f *scenariotest.Fixture, suffix string) bool {
	t.Helper()
	ctx := context.Background()
	got, err := f.Quay.Resolve(ctx, scenario.QuayTarget, f.Release.Ref+suffix)
	if err != nil || got != f.Lists[suffix] {
		return false
	}
	for _, im := range f.Images[suffix] {
		if ok, err := f.Quay.ManifestExists(ctx, scenario.QuayTarget, im.Digest); err != nil || !ok {
			return false
		}
	}
	return true
}

func wantOutputs(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestActionHealsRelease runs action.yml's steps over a broken release:
// inspect only (nothing written, exit 1), an invalid input (exit 2), repair
// (the repairable backends heal, the lost one is named and the exit is 1),
// then the release gate over what is left.
func TestActionHealsRelease(t *testing.T) {
	f := brokenRelease(t, false)
	base := map[string]string{
		"release": f.Release.Ref, "run": f.Release.Run, "sha": f.Release.SHA,
		"digests": f.DigestsDir, "config": f.ConfigPath, "install": "false",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	t.Run("inspect only", func(t *testing.T) {
		r := newRunner(t, remergeBin)
		res := runAction(t, r, with())
		if res.code != 1 {
			t.Errorf("exit %d, want 1", res.code)
		}
		wantOutputs(t, res.outputs, map[string]string{"ok": "1", "repairable": "2", "unrepairable": "1", "conflict": "0", "unknown": "0", "broken": "true", "audit": ""})
		var rep release.Report
		if err := json.Unmarshal([]byte(fileText(t, res.outputs["report"])), &rep); err != nil {
			t.Fatalf("report output %q: %v", res.outputs["report"], err)
		}
		if rep.Summary.Repairable != 2 {
			t.Errorf("report summary %+v", rep.Summary)
		}
		for _, want := range []string{"::error title=-cpu-lost (unrepairable)::", "::error title=-cpu-reaped (repairable)::", "::warning title=-cpu-reaped user-facing tag::latest-cpu-reaped in quay: stale"} {
			if !strings.Contains(r.stdout.String(), want) {
				t.Errorf("annotations lack %q", want)
			}
		}
		sum := fileText(t, r.summary)
		if !strings.Contains(sum, "### remerge: v4.2.2") || strings.Contains(sum, "### remerge repair") {
			t.Errorf("step summary:\n%s", sum)
		}
		if healed(t, f, "-cpu-reaped") {
			t.Error("inspect only healed the release")
		}
	})

	t.Run("input neither true nor false", func(t *testing.T) {
		r := newRunner(t, remergeBin)
		res := runAction(t, r, with("repair", "yes"))
		if res.code != 2 || !strings.Contains(r.stdout.String(), "::error title=remerge::input repair: want true or false") {
			t.Errorf("exit %d, stdout:\n%s", res.code, r.stdout.String())
		}
	})

	t.Run("repair", func(t *testing.T) {
		r := newRunner(t, remergeBin)
		res := runAction(t, r, with("repair", "true", "sign", "false", "targets", "quay, dockerhub"))
		if res.code != 1 {
			t.Errorf("exit %d, want 1: the lost backend is left broken", res.code)
		}
		for _, s := range []string{"-cpu-reaped", "-cpu-new"} {
			if !healed(t, f, s) {
				t.Errorf("%s did not heal in quay", s)
			}
		}
		wantOutputs(t, res.outputs, map[string]string{"ok": "3", "repairable": "0", "unrepairable": "1", "broken": "true"})
		if !strings.Contains(r.stdout.String(), "::error title=-cpu-lost (unrepairable)::") {
			t.Errorf("no annotation names the lost backend:\n%s", r.stdout.String())
		}
		sum := fileText(t, r.summary)
		rep, insp := strings.Index(sum, "### remerge repair: v4.2.2"), strings.Index(sum, "### remerge: v4.2.2")
		if rep < 0 || insp < rep {
			t.Errorf("step summary wants the repair section, then the final report:\n%s", sum)
		}
		if audit := res.outputs["audit"]; audit == "" || !strings.Contains(fileText(t, audit), "-cpu-reaped") {
			t.Errorf("audit output %q does not log the re-merge", audit)
		}
	})

	// What is left is the lost backend, whose latest stays on v4.2.1: the
	// gate decides the exit code, not the verdicts.
	t.Run("gate", func(t *testing.T) {
		for _, tt := range []struct {
			failOn string
			code   int
		}{{"broken", 0}, {"stale-latest", 1}, {"bogus", 2}} {
			r := newRunner(t, remergeBin)
			if res := runAction(t, r, with("fail-on", tt.failOn)); res.code != tt.code {
				t.Errorf("fail-on %s: exit %d, want %d", tt.failOn, res.code, tt.code)
			}
		}
	})
}

// TestExampleSelfHeal runs the example's self-heal job: over a release
// whose damage is all repairable it heals it and the job passes; over one
// with a lost backend it heals what it can and the job fails.
func TestExampleSelfHeal(t *testing.T) {
	for _, tt := range []struct {
		name     string
		healable bool
	}{{"healable", true}, {"lost backend", false}} {
		t.Run(tt.name, func(t *testing.T) {
			f := brokenRelease(t, tt.healable)
			r := newRunner(t, remergeBin)
			// What checkout and download-artifact leave in the workspace,
			// plus a remerge.yaml aiming the defaults at the loopback
			// registries.
			if err := os.CopyFS(filepath.Join(r.workspace, "digests"), os.DirFS(f.DigestsDir)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(r.workspace, "remerge.yaml"), []byte(fileText(t, f.ConfigPath)), 0o644); err != nil {
				t.Fatal(err)
			}
			github := map[string]string{"ref_name": f.Release.Ref, "ref": "refs/tags/" + f.Release.Ref, "run_id": f.Release.Run, "sha": f.Release.SHA}
			job := runExampleJob(t, r, github, map[string]string{"sign": "false"})

			if job.failed == tt.healable {
				t.Errorf("job failed: %v, want %v", job.failed, !tt.healable)
			}
			for _, s := range []string{"-cpu-reaped", "-cpu-new"} {
				if !healed(t, f, s) {
					t.Errorf("%s did not heal", s)
				}
			}
			step := job.steps["remerge"]
			if step == nil || step.outcome != outcome(map[bool]int{true: 0, false: 1}[tt.healable]) {
				t.Fatalf("remerge step: %+v", step)
			}
			if !strings.Contains(fileText(t, r.summary), "### remerge: v4.2.2") {
				t.Error("no report in the step summary")
			}
			if !tt.healable && !strings.Contains(r.stdout.String(), "::error title=self-heal::the release is still broken") {
				t.Errorf("the closing step does not say why the job failed:\n%s", r.stdout.String())
			}
		})
	}
}

// TestScriptsTakeInputsFromEnv guards against script injection: no run:
// script of the action or the example interpolates an expression; inputs
// reach the shell only through env.
func TestScriptsTakeInputsFromEnv(t *testing.T) {
	var a actionFile
	readYAML(t, filepath.Join(repoRoot(t), "action.yml"), &a)
	var w workflowFile
	readYAML(t, filepath.Join(repoRoot(t), "examples", "localai-self-heal.yml"), &w)
	steps := a.Runs.Steps
	for _, j := range w.Jobs {
		steps = append(steps, j.Steps...)
	}
	for _, s := range steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script", s.Name)
		}
	}
}
