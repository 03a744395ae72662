package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// A release written by the real pipeline, with one target repo mistyped in
// remerge.yaml (quay side, then Docker Hub side): inspect names the repo as
// not existing and calls nothing in it reaped; repair --all --yes writes
// no tag there and exits non-zero. With --create-target the same repair
// publishes there on purpose. On 4da49be repair published the release into
// the typo (issue 18).
func TestMistypedTargetGetsNothingWritten(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-whisper", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-rerankers", Kind: release.KindSingle, Fate: scenario.HubSkipped},
	}, testreg.ImageOptions{})
	sides := []struct {
		target string
		reg    *testreg.Registry
		repo   string
	}{{"quay", f.Quay, scenario.QuayTarget}, {"dockerhub", f.Hub, scenario.HubTarget}}
	for _, side := range sides {
		t.Run(side.target, func(t *testing.T) {
			typoPath := strings.TrimSuffix(side.repo, "s")
			typo := side.reg.Repo(typoPath)
			raw, err := os.ReadFile(f.ConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "remerge.yaml")
			if err := os.WriteFile(cfg, []byte(strings.Replace(string(raw), side.reg.Repo(side.repo)+"\n", typo+"\n", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"--config", cfg, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir}

			code, stdout, stderr := runArgs(t, append([]string{"inspect", "--format", "json"}, args...)...)
			if code != exitBroken {
				t.Errorf("inspect: exit %d, want %d; stderr %q", code, exitBroken, stderr)
			}
			if !strings.Contains(stdout, typo+" (targets[") || !strings.Contains(stdout, "does not exist") {
				t.Errorf("inspect does not name %s as not existing:\n%s", typo, stdout)
			}
			if strings.Contains(stdout, "reaped from "+typo) {
				t.Errorf("inspect calls something in %s reaped:\n%s", typo, stdout)
			}

			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			code, stdout, stderr = runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", audit}, args...)...)
			if code == exitOK {
				t.Errorf("repair --all --yes: exit 0 with a mistyped target\n%s", stdout)
			}
			if tags := tagsOf(t, side.reg, typoPath); len(tags) > 0 {
				t.Fatalf("repair wrote %d tag(s) into the mistyped %s: %v\n%s\n%s", len(tags), typo, tags, stdout, stderr)
			}
			if !strings.Contains(stdout, "--create-target "+side.target) {
				t.Errorf("repair does not say how to create %s on purpose:\n%s", side.target, stdout)
			}

			code, stdout, stderr = runArgs(t, append([]string{"repair", "--all", "--yes", "--create-target", side.target, "--audit", audit}, args...)...)
			if tags := tagsOf(t, side.reg, typoPath); !contains(tags, "v4.2.2-cpu-whisper") {
				t.Errorf("repair --create-target %s: exit %d, tags there %v\n%s\n%s", side.target, code, tags, stdout, stderr)
			}
		})
	}
}

func tagsOf(t *testing.T, reg *testreg.Registry, repo string) []string {
	t.Helper()
	tags, err := reg.Tags(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
