package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// repair --all on a release with a repairable, an unrepairable, a
// conflicting and an unanchored backend re-merges the first, exits 1, and
// its closing summary names each of the others with what a person must do.
func TestRepairAllSaysWhatItLeftAlone(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	backends := []scenario.Backend{
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-vibevoice", Kind: release.KindMultiarch, Fate: scenario.Lost},
		{Suffix: "-cpu-diffusers", Kind: release.KindMultiarch, Fate: scenario.Conflict},
		{Suffix: "-cpu-outetts", Kind: release.KindMultiarch, Fate: scenario.Unanchored},
		{Suffix: "-cpu-whisper", Kind: release.KindMultiarch, Fate: scenario.Healthy},
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

// repair --all --yes off a terminal runs its pairs concurrently and prints
// one block per (backend, target): a block's lines all name its own pair,
// its steps count up without a gap, and every repairable backend is healed
// (exit 1 only for the lost one, which is named in the summary).
func TestRepairAllConcurrentBlocks(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	var backends []scenario.Backend
	for i, fate := range []scenario.Fate{scenario.Reaped, scenario.HubSkipped, scenario.Reaped, scenario.CrossOnly, scenario.HubSkipped, scenario.Reaped, scenario.Healthy, scenario.Lost} {
		kind := release.KindMultiarch
		if i%3 == 2 {
			kind = release.KindSingle
		}
		backends = append(backends, scenario.Backend{Suffix: fmt.Sprintf("-cpu-b%d", i), Kind: kind, Fate: fate})
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	rel := []string{"--config", f.ConfigPath, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir}

	code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", audit}, rel...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d (the lost backend stays broken); stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	body, summary, ok := strings.Cut(stdout, "\nleft broken:\n")
	if !ok || strings.Contains(summary, "-cpu-b0") || !strings.Contains(summary, "-cpu-b7: unrepairable") {
		t.Errorf("closing summary should name only the lost backend:\n%s", summary)
	}
	blocks := repairBlocks(t, body)
	published := map[string]bool{}
	for _, b := range blocks {
		step := 0
		for _, line := range b.lines {
			if m := stepLine.FindStringSubmatch(line); m != nil {
				if n, _ := strconv.Atoi(m[1]); n != step+1 {
					t.Errorf("block %s in %s: step %d after %d: steps of pairs interleaved:\n%s", b.suffix, b.target, n, step, strings.Join(b.lines, "\n"))
				}
				step++
			}
			for _, other := range backends {
				if other.Suffix != b.suffix && strings.Contains(line+" ", other.Suffix+" ") {
					t.Errorf("block %s in %s has a line of %s: %q", b.suffix, b.target, other.Suffix, line)
				}
			}
			if strings.HasPrefix(line, b.suffix+" "+f.Release.Ref+" in "+b.target+": published") {
				published[b.suffix+" "+b.target] = true
			}
		}
	}
	for _, want := range []string{"-cpu-b0 quay", "-cpu-b1 quay", "-cpu-b1 dockerhub", "-cpu-b3 quay", "-cpu-b4 dockerhub", "-cpu-b5 quay"} {
		if !published[want] {
			t.Errorf("no block says %s was published:\n%s", want, stdout)
		}
	}

	code, stdout, _ = runArgs(t, append([]string{"inspect", "--format", "json"}, rel...)...)
	if code != exitBroken || !strings.Contains(stdout, `"repairable": 0`) || !strings.Contains(stdout, `"unrepairable": 1`) {
		t.Errorf("inspect afterwards: exit %d, want every repairable backend healed\n%s", code, stdout)
	}
	intents := strings.Count(readFile(t, audit), `"event":"intent"`)
	if outcomes := strings.Count(readFile(t, audit), `"event":"outcome"`); intents == 0 || outcomes < intents {
		t.Errorf("audit log: %d intents, %d outcomes; want every intent closed", intents, outcomes)
	}
}

var (
	stepLine  = regexp.MustCompile(`^  \[(\d+)/\d+\] `)
	planLine  = regexp.MustCompile(`^re-merge (\S+) \(\S+\) into (\S+) `)
	blockLine = regexp.MustCompile(`^re-merging (\S+) into (\S+):$`)
)

// repairBlock is one pair's block of repair output.
type repairBlock struct {
	suffix, target string
	lines          []string
}

// repairBlocks splits repair output into blocks at each plan's first line,
// checking that a block's "re-merging" line names the block's own pair.
func repairBlocks(t *testing.T, out string) []repairBlock {
	t.Helper()
	var blocks []repairBlock
	for _, line := range strings.Split(out, "\n") {
		if m := planLine.FindStringSubmatch(line); m != nil {
			blocks = append(blocks, repairBlock{suffix: m[1], target: m[2]})
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		b := &blocks[len(blocks)-1]
		if m := blockLine.FindStringSubmatch(line); m != nil && (m[1] != b.suffix || m[2] != b.target) {
			t.Errorf("block of %s in %s goes on with the re-merge of %s in %s", b.suffix, b.target, m[1], m[2])
		}
		b.lines = append(b.lines, line)
	}
	if len(blocks) == 0 {
		t.Fatalf("no plan blocks in:\n%s", out)
	}
	return blocks
}
