package inspect_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// Issue 18's holes: places where a registry that did not answer still
// turned into an answer. Each test puts a fault proxy in front of a
// release the real pipeline wrote.

// holeWorld is a fixture seen through one fault proxy per registry.
type holeWorld struct {
	*scenariotest.Fixture
	cfg       release.Config
	quay, hub *testreg.FaultProxy
	c         *registry.Client
}

func newHoleWorld(t *testing.T, backends ...scenario.Backend) *holeWorld {
	t.Helper()
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	hw := &holeWorld{Fixture: f, quay: testreg.StartFaultProxy(t, f.Quay.Host), hub: testreg.StartFaultProxy(t, f.Hub.Host)}
	hw.cfg = f.Config
	hw.cfg.Anchor = hw.quay.Repo(scenario.Anchor)
	hw.cfg.Targets = []release.Target{{Name: "quay", Repo: hw.quay.Repo(scenario.QuayTarget)}, {Name: "dockerhub", Repo: hw.hub.Repo(scenario.HubTarget)}}
	hw.c = registry.New(registry.Options{Keychain: authn.NewMultiKeychain(), Retries: -1})
	t.Cleanup(hw.c.Close)
	return hw
}

// run inspects the release; after the repo checks (the first digest or
// cell event), it calls then, so a fault on tag listings spares the
// checks and hits only what follows.
func (hw *holeWorld) run(t *testing.T, then func()) *release.Report {
	t.Helper()
	var once sync.Once
	events := func(ev inspect.Event) {
		switch ev.(type) {
		case inspect.DigestEvent, inspect.CellEvent:
			if then != nil {
				once.Do(then)
			}
		}
	}
	rep, err := inspect.Run(context.Background(), hw.Release, inspect.WithConfig(hw.cfg), inspect.WithMatrix(hw.Matrix),
		inspect.WithClient(hw.c), inspect.WithDigests(hw.Digests), inspect.WithEvents(events))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func hasProblem(list []string, part string) bool {
	for _, p := range list {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

// Item 1: the release tag in quay names an image of other digests whose
// children cannot be probed there (503). Whether it is a conflict is
// unknown: the tag is could-not-tell with the registry's word, not stale
// (on 4da49be: stale, a leftover to replace, counted as repairable).
func TestInspectConflictWithUnansweredChildIsUnknown(t *testing.T) {
	t.Parallel()
	hw := newHoleWorld(t, scenario.Backend{Suffix: "-cpu-other", Kind: release.KindMultiarch, Fate: scenario.Conflict})
	clean := hw.run(t, nil)
	b := clean.Backends[0]
	ts := b.Targets["quay"]
	if b.Verdict != release.VerdictConflict || !ts.Conflict {
		t.Fatalf("clean run: %s, want a conflict in quay; problems %q", b.Verdict, b.Problems)
	}
	for _, child := range ts.Tags[ts.ReleaseTag()].Children {
		hw.quay.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodHead}, PathContains: "/manifests/" + child}, Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable})
	}
	b = hw.run(t, nil).Backends[0]
	ts = b.Targets["quay"]
	st := ts.Tags[ts.ReleaseTag()]
	if st.State != release.TagError || !strings.Contains(st.Reason, "503") || ts.Conflict {
		t.Errorf("quay release tag: %s %q (conflict %v), want could-not-tell with the registry's word", st.State, st.Reason, ts.Conflict)
	}
	if b.Verdict == release.VerdictOK {
		t.Errorf("verdict ok; problems %q", b.Problems)
	}
}

// Items 2, 3 and 5: latest names the previous release. Its labels cannot
// be read (blob GETs fail: the failure is a problem, item 5), so the
// target's tag listing must say whether a newer release holds it; that
// listing fails with 503 (item 2), or answers 404 NAME_UNKNOWN (item 3).
// Either way latest is could-not-tell with the registry's word, and
// --fail-on stale-latest says so; on 4da49be latest was stale (and a 404
// was "no tags": no newer release).
func TestInspectLatestUnknownWhenListingFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		fault  testreg.Fault
		reason string
	}{
		{"503", testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable}, "503"},
		{"404", testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusNotFound,
			Body: `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`}, "NAME_UNKNOWN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const suffix = "-cpu-behind"
			hw := newHoleWorld(t, scenario.Backend{Suffix: suffix, Kind: release.KindMultiarch, Fate: scenario.Reaped})
			noLabels := testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodGet}, Kinds: []testreg.Kind{testreg.KindBlob}}, Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable}
			hw.quay.Add(noLabels)
			hw.hub.Add(noLabels)
			listing := tt.fault
			listing.Match = testreg.Match{Kinds: []testreg.Kind{testreg.KindTags}, PathContains: scenario.QuayTarget}
			rep := hw.run(t, func() { hw.quay.Add(listing) })
			b := rep.Backends[0]
			latest := "latest" + suffix
			st := b.Targets["quay"].Tags[latest]
			if st.State != release.TagError || !strings.Contains(st.Reason, tt.reason) {
				t.Errorf("latest in quay: %s %q, want could-not-tell with the registry's word %q", st.State, st.Reason, tt.reason)
			}
			if !hasProblem(b.Problems, "could not read what "+latest+" in quay holds") {
				t.Errorf("the failed label read left no trace: %q", b.Problems)
			}
			g, err := release.ParseGate("stale-latest")
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range g.Check(rep) {
				if strings.Contains(line, latest+" in quay is stale") {
					t.Errorf("gate: %q; latest is not known to be stale", line)
				}
			}
		})
	}
}

// Item 4: the digests folder gives the digest, and the keepalive anchor
// that would cross-check it answers 503: the digest stands, and the failed
// cross-check is a problem (on 4da49be it was dropped without a trace).
func TestInspectFailedAnchorCrossCheckIsSaid(t *testing.T) {
	t.Parallel()
	const suffix = "-cpu-checked"
	hw := newHoleWorld(t, scenario.Backend{Suffix: suffix, Kind: release.KindMultiarch, Fate: scenario.Reaped})
	hw.quay.Add(testreg.Fault{Match: testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: "keepalive-" + hw.Release.Run + suffix + "-arm64"},
		Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable})
	b := hw.run(t, nil).Backends[0]
	for _, l := range b.Legs {
		if l.DigestFrom != release.FromDigests || l.Digest == "" {
			t.Errorf("%s: digest %q from %s, want the digests folder's", l.PlatformTag, l.Digest, l.DigestFrom)
		}
	}
	if !hasProblem(b.Problems, "arm64 digest from the digests folder not cross-checked with the keepalive anchor") {
		t.Errorf("the failed cross-check left no trace: %q", b.Problems)
	}
}
