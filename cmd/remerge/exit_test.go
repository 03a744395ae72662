package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/scenario/scenariotest"
	"github.com/go-skynet/remerge/internal/testreg"
)

// repair --all on a release with a repairable, an unrepairable, a
// conflicting and an unanchored backend re-merges the first, exits 1, and
// its closing summary names each of the others with what a person must do.
func TestRepairAllSaysWhatItLeftAlone(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	backends := []scenario.Backend{
		{Suffix: "-cpu-kokoro", Kind: inspect.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-vibevoice", Kind: inspect.KindMultiarch, Fate: scenario.Lost},
		{Suffix: "-cpu-diffusers", Kind: inspect.KindMultiarch, Fate: scenario.Conflict},
		{Suffix: "-cpu-outetts", Kind: inspect.KindMultiarch, Fate: scenario.Unanchored},
		{Suffix: "-cpu-whisper", Kind: inspect.KindMultiarch, Fate: scenario.Healthy},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	args := []string{"repair", "--all", "--yes", "--audit", audit, "--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir}

	code, stdout, stderr := runArgs(t, args...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	i := strings.LastIndex(stdout, "left broken:")
	if i < 0 {
		t.Fatalf("no closing summary:\n%s", stdout)
	}
	summary := stdout[i:]
	t.Log(summary)
	lost := f.Images["-cpu-vibevoice"]["arm64"].Digest
	for _, want := range []string{
		"-cpu-vibevoice: unrepairable: rebuild the arm64 (" + lost + ") leg",
		"-cpu-diffusers: conflict: ",
		"--force",
		"-cpu-outetts: unknown: no digest known",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("closing summary lacks %q:\n%s", want, summary)
		}
	}
	for _, healthy := range []string{"-cpu-kokoro", "-cpu-whisper"} {
		if strings.Contains(summary, healthy) {
			t.Errorf("closing summary names %s, which is ok afterwards:\n%s", healthy, summary)
		}
	}
	if !strings.Contains(stdout, "re-merging -cpu-kokoro into quay") {
		t.Errorf("the repairable backend was not re-merged:\n%s", stdout)
	}

	// Only the backends left alone are still broken.
	code, stdout, _ = runArgs(t, "inspect", "--format", "json", "--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir)
	if code != exitBroken || !strings.Contains(stdout, `"repairable": 0`) || !strings.Contains(stdout, `"ok": 2`) {
		t.Errorf("inspect afterwards: exit %d\n%s", code, stdout)
	}
}

// When no registry answers (down, or every request denied) nothing was
// checked: inspect and repair --all --yes exit 1 and say why on stderr,
// never "nothing to re-merge".
func TestNothingCheckedIsNeverFine(t *testing.T) {
	locked := testreg.Start(t, testreg.WithAuth("maintainer", "right-password"))
	matrix := filepath.Join(t.TempDir(), "matrix.yml")
	if err := os.WriteFile(matrix, []byte(e2eMatrix), 0o644); err != nil {
		t.Fatal(err)
	}
	config := func(host string) string {
		p := filepath.Join(t.TempDir(), "remerge.yaml")
		body := fmt.Sprintf("matrix: %s\nanchor: %s/go-skynet/ci-cache\ntargets:\n  - name: quay\n    repo: %s/go-skynet/local-ai-backends\n", matrix, host, host)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, host string
		want       []string // on stderr
	}{
		{"registry down", "127.0.0.1:1", []string{"nothing could be checked", "could not reach 127.0.0.1:1: connection refused"}},
		{"wrong password", locked.Host, []string{"nothing could be checked", locked.Host}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dockerConfig := t.TempDir()
			auth := base64.StdEncoding.EncodeToString([]byte("maintainer:wrong-password"))
			if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, locked.Host, auth)), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("DOCKER_CONFIG", dockerConfig)
			cfg := config(tt.host)
			for _, args := range [][]string{
				{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl"), "--timeout", "5s"},
				{"inspect", "--timeout", "5s"},
			} {
				code, stdout, stderr := runArgs(t, append(args, "--config", cfg, "--release", "v1.0.0")...)
				t.Log(stderr)
				if code != exitBroken {
					t.Errorf("%s: exit %d, want %d; stderr %q\n%s", args[0], code, exitBroken, stderr, stdout)
				}
				if strings.Contains(stdout, "nothing to re-merge") {
					t.Errorf("%s says nothing to re-merge although nothing was checked", args[0])
				}
				for _, w := range tt.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr %q does not say %q", args[0], stderr, w)
					}
				}
				if strings.Contains(stdout+stderr, "wrong-password") {
					t.Errorf("%s printed the password", args[0])
				}
			}
		})
	}
}

// TestRunsUnreachable: runs against a registry that is down names the
// cause once, in a person's words, without repeating its own prefix.
func TestRunsUnreachable(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	p := filepath.Join(t.TempDir(), "remerge.yaml")
	if err := os.WriteFile(p, []byte("anchor: 127.0.0.1:1/go-skynet/ci-cache\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runArgs(t, "runs", "--config", p, "--timeout", "5s")
	if code != exitBroken {
		t.Errorf("exit %d, want %d", code, exitBroken)
	}
	if n := strings.Count(stderr, "listing tags of"); n != 1 {
		t.Errorf("stderr says %q %d times: %q", "listing tags of", n, stderr)
	}
	if !strings.Contains(stderr, "could not reach 127.0.0.1:1: connection refused") {
		t.Errorf("stderr %q does not name the cause", stderr)
	}
}
