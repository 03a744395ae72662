package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// A target repo name with one letter missing (quay side, then Docker Hub
// side) on a release the real pipeline wrote: inspect names that repo as
// not existing, with its config key, and calls nothing in it missing or
// reaped (issue 18). On 4da49be every leg was "reaped from" the typo.
func TestInspectMistypedTargetDoesNotExist(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-ok", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-reaped", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-single", Kind: release.KindSingle, Fate: scenario.Healthy},
	}, testreg.ImageOptions{})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	for i, side := range []string{"quay", "dockerhub"} {
		t.Run(side, func(t *testing.T) {
			cfg := f.Config
			cfg.Targets = append([]release.Target(nil), f.Config.Targets...)
			typo := strings.TrimSuffix(cfg.Targets[i].Repo, "s")
			cfg.Targets[i].Repo = typo
			rep, err := inspect.Run(context.Background(), f.Release, inspect.WithConfig(cfg), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDigests(f.Digests))
			if err != nil {
				t.Fatal(err)
			}
			key := []string{"targets[0].repo", "targets[1].repo"}[i]
			found := false
			for _, p := range rep.Problems {
				if strings.Contains(p, typo+" ("+key+") does not exist") {
					found = true
				}
			}
			if !found {
				t.Errorf("no release-wide problem naming %s (%s) as not existing: %q", typo, key, rep.Problems)
			}
			for _, r := range rep.Repos {
				if r.Repo == typo && (r.State != release.RepoAbsent || r.Key != key) {
					t.Errorf("repo %s: state %q key %q", typo, r.State, r.Key)
				}
			}
			for _, b := range rep.Backends {
				for _, p := range b.Problems {
					if strings.Contains(p, "reaped from "+typo) {
						t.Errorf("%s: %q calls the mistyped repo reaped", b.Suffix, p)
					}
				}
				for _, l := range b.Legs {
					if c := l.Cells[typo]; c.State != release.CellUnknown {
						t.Errorf("%s %s in %s: %s, want unknown", b.Suffix, l.PlatformTag, typo, c.State)
					}
				}
				ts := b.Targets[side]
				if ts.RepoAbsent == "" {
					t.Errorf("%s: target %s does not say its repo is absent", b.Suffix, side)
				}
				for tag, st := range ts.Tags {
					if st.State == release.TagMissing {
						t.Errorf("%s: %s in the mistyped repo is missing, want could-not-tell", b.Suffix, tag)
					}
				}
				if b.Suffix != "-cpu-reaped" && b.Verdict != release.VerdictUnknown {
					t.Errorf("%s: verdict %s, want unknown; problems %q", b.Suffix, b.Verdict, b.Problems)
				}
			}
			if !rep.Summary.Broken() {
				t.Error("a release with a mistyped target passes as ok")
			}
		})
	}
}

// A target that holds the release's children but no tag at all (its first
// release, whose merge failed): distribution answers NAME_UNKNOWN for its
// tag list, but a child it serves proves it exists. It is warned about as
// holding no tag, and a child reaped from it is still missing, not
// unknown.
func TestInspectTaglessTargetThatHoldsChildrenExists(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-first", Kind: release.KindMultiarch, Fate: scenario.HubSkipped, NoPrevious: true},
	}, testreg.ImageOptions{})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	rep, err := inspect.Run(context.Background(), f.Release, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDigests(f.Digests))
	if err != nil {
		t.Fatal(err)
	}
	quay := f.Config.Targets[0].Repo
	if !hasProblem(rep.Problems, quay+" (targets[0].repo) exists but holds no tag") {
		t.Errorf("no warning that %s holds no tag: %q", quay, rep.Problems)
	}
	b := rep.Backends[0]
	states := map[release.CellState]int{}
	for _, l := range b.Legs {
		states[l.Cells[quay].State]++
	}
	if states[release.CellPresent] != 1 || states[release.CellMissing] != 1 || b.Verdict != release.VerdictRepairable {
		t.Errorf("cells in quay %v, verdict %s; want one present, one missing (reaped), repairable; problems %q", states, b.Verdict, b.Problems)
	}
}
