package inspect_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// A branch build is path-filtered: the run builds only some backends. The
// others are "not built in this run", never unknown, and their older
// master-<suffix> tag is not taken for this run's digests.
func TestInspectBranchRunNotBuilt(t *testing.T) {
	t.Parallel()
	rel := scenario.Release{Ref: "master", PrevRef: "master", Run: "26000000001", SHA: "0123456789abcdef0123456789abcdef01234567", PrevSHA: "fedcba9876543210fedcba9876543210fedcba98"}
	backends := []scenario.Backend{
		{Suffix: "-cpu-built", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-reaped", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-untouched", Kind: release.KindMultiarch, Fate: scenario.NeverBuilt},
		{Suffix: "-gpu-untouched", Kind: release.KindSingle, Fate: scenario.NeverBuilt},
	}
	f := scenariotest.StartRelease(t, rel, backends, testreg.ImageOptions{})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	for _, withDigests := range []bool{false, true} {
		opts := []inspect.Option{inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c)}
		if withDigests {
			opts = append(opts, inspect.WithDigests(f.Digests))
		}
		rep, err := inspect.Run(context.Background(), f.Release, opts...)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]release.Verdict{"-cpu-built": release.VerdictOK, "-cpu-reaped": release.VerdictRepairable,
			"-cpu-untouched": release.VerdictNotBuilt, "-gpu-untouched": release.VerdictNotBuilt}
		for _, b := range rep.Backends {
			if b.Verdict != want[b.Suffix] {
				t.Errorf("digests folder %v: %s is %s, want %s; problems %q", withDigests, b.Suffix, b.Verdict, want[b.Suffix], b.Problems)
			}
		}
		if rep.Summary.NotBuilt != 2 || !rep.Summary.Broken() {
			t.Errorf("summary %+v", rep.Summary)
		}
	}
	// A pipeline that writes no sha tag (tags.sha: ""): its absence says
	// nothing, and without the digests folder nothing else tells a
	// backend the run did not build from one whose anchors a good merge
	// deleted. Never "not built" (which exits 0) on that ground.
	noSHA := f.Config
	noSHA.Tags.SHA = ""
	rep, err := inspect.Run(context.Background(), f.Release, inspect.WithConfig(noSHA), inspect.WithMatrix(f.Matrix), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Backends {
		if b.Verdict == release.VerdictNotBuilt {
			t.Errorf("no sha tag configured: %s is not built; problems %q", b.Suffix, b.Problems)
		}
	}
}

// --run naming a run with no anchor is an input error that points at
// `remerge runs`, never a silent fall-back to published lists.
func TestInspectRunWithoutAnchorIsAnInputError(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-cpu-a", Kind: release.KindMultiarch, Fate: scenario.Conflict}}, testreg.ImageOptions{})
	rel := f.Release
	rel.Run = "99999"
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	_, err := inspect.Run(context.Background(), rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c))
	if !errors.Is(err, inspect.ErrInput) || !strings.Contains(err.Error(), "remerge runs") || !strings.HasPrefix(err.Error(), "--run 99999") {
		t.Fatalf("err = %v, want an input error naming --run 99999 and `remerge runs`", err)
	}
}

// Without --run, the report says which run was picked and why.
func TestInspectSaysWhichRunItPicked(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-a", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-b", Kind: release.KindMultiarch, Fate: scenario.Reaped},
	}, testreg.ImageOptions{})
	rel := f.Release
	rel.Run = ""
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	rep, err := inspect.Run(context.Background(), rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Release.Run != scenario.DefaultRelease().Run || !strings.Contains(rep.Release.RunNote, "newest of 2 runs anchored") {
		t.Errorf("run %q, note %q", rep.Release.Run, rep.Release.RunNote)
	}
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictRepairable || b.Legs[0].DigestFrom != release.FromAnchor {
			t.Errorf("%s: %s, digests from %s; problems %q", b.Suffix, b.Verdict, b.Legs[0].DigestFrom, b.Problems)
		}
	}
}

// A keepalive tag that answers 429 is not "no anchor": the backend is
// unknown with the registry's word, and the other run's image published
// under the release tag is never taken for this run's (issue: inverted
// reports and a --force repair publishing the wrong image). The same when
// the anchor repo cannot be listed and no run was given.
func TestInspectFailedAnchorLookupIsUnknown(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{
		{Suffix: "-cpu-conflict", Kind: release.KindMultiarch, Fate: scenario.Conflict},
		{Suffix: "-cpu-fine", Kind: release.KindMultiarch, Fate: scenario.Reaped},
	}, testreg.ImageOptions{})
	proxy := testreg.StartFaultProxy(t, f.Quay.Host)
	cfg := f.Config
	cfg.Anchor = proxy.Host() + "/" + scenario.Anchor
	cfg.Targets[0].Repo = proxy.Host() + "/" + scenario.QuayTarget
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain(), Retries: -1})
	t.Cleanup(c.Close)

	t.Run("keepalive tag throttled", func(t *testing.T) {
		proxy.Clear()
		proxy.Add(testreg.Fault{Match: testreg.Match{PathContains: "keepalive-" + f.Release.Run + "-cpu-conflict-"}, Effect: testreg.EffectStatus, Status: http.StatusTooManyRequests})
		rep, err := inspect.Run(context.Background(), f.Release, inspect.WithConfig(cfg), inspect.WithMatrix(f.Matrix), inspect.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range rep.Backends {
			want := map[string]release.Verdict{"-cpu-conflict": release.VerdictUnknown, "-cpu-fine": release.VerdictRepairable}[b.Suffix]
			if b.Verdict != want {
				t.Errorf("%s: %s, want %s; problems %q", b.Suffix, b.Verdict, want, b.Problems)
			}
			if b.Suffix != "-cpu-conflict" {
				continue
			}
			for _, l := range b.Legs {
				if l.Digest != "" || l.DigestFrom == release.FromPublished || !strings.Contains(l.DigestError, "429") {
					t.Errorf("%s leg: digest %q from %q, error %q; want no digest and the 429", l.PlatformTag, l.Digest, l.DigestFrom, l.DigestError)
				}
			}
		}
	})
	t.Run("anchor listing fails without --run", func(t *testing.T) {
		proxy.Clear()
		proxy.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindTags}}, Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable})
		rel := f.Release
		rel.Run = ""
		rep, err := inspect.Run(context.Background(), rel, inspect.WithConfig(cfg), inspect.WithMatrix(f.Matrix), inspect.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range rep.Backends {
			if b.Verdict != release.VerdictUnknown {
				t.Errorf("%s: %s, want unknown; problems %q", b.Suffix, b.Verdict, b.Problems)
			}
			for _, p := range b.Problems {
				if strings.Contains(p, "no run anchored") {
					t.Errorf("%s says %q although the anchor repo could not be listed", b.Suffix, p)
				}
			}
		}
	})
}

// A child HEAD that is throttled is "could not tell", never "missing": the
// healthy backend's tags are not called dangling and its verdict is not
// "repairable … pulls fail" (issue: one throttled HEAD at LocalAI size
// turned healthy backends into repair orders).
func TestInspectThrottledChildIsNotMissing(t *testing.T) {
	t.Parallel()
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-cpu-fine", Kind: release.KindMultiarch, Fate: scenario.Healthy}}, testreg.ImageOptions{})
	proxy := testreg.StartFaultProxy(t, f.Quay.Host)
	cfg := f.Config
	cfg.Anchor = proxy.Host() + "/" + scenario.Anchor
	cfg.Targets[0].Repo = proxy.Host() + "/" + scenario.QuayTarget
	arm := f.Images["-cpu-fine"]["arm64"].Digest
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodHead}, PathContains: scenario.QuayTarget + "/manifests/" + arm},
		Effect: testreg.EffectStatus, Status: http.StatusTooManyRequests, Body: "<html><body>Too Many Requests</body></html>"})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain(), Retries: -1, RetryDeadline: time.Second})
	t.Cleanup(c.Close)
	rel := f.Release
	rel.Run = ""
	rep, err := inspect.Run(context.Background(), rel, inspect.WithConfig(cfg), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDigests(f.Digests))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	if b.Verdict != release.VerdictUnknown {
		t.Errorf("verdict %s, want unknown; problems %q", b.Verdict, b.Problems)
	}
	for tag, st := range b.Targets["quay"].Tags {
		if st.State == release.TagDangling || st.State == release.TagMissing {
			t.Errorf("quay %s: %s (%s): a throttled probe read as absence", tag, st.State, st.Reason)
		}
	}
	if c := b.Legs[1].Cells[cfg.Targets[0].Repo]; c.State != release.CellError || strings.Contains(c.Error, "<html") {
		t.Errorf("arm64 cell in quay: %+v, want an error without the HTML page", c)
	}
}
