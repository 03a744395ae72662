package inspect_test

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// world is a seeded v4.2.2-like release on two real registries, plus an
// extra source that denies anonymous access and one that is down.
type world struct {
	seeded      *scenario.Seeded
	quay, hub   *testreg.Registry
	locked      string // repo on an htpasswd registry: denied
	down        string // repo on a closed port: error
	client      *registry.Client
	matrix      *release.Matrix
	digests     *inspect.DigestsDir
	byFate      map[scenario.Fate][]string
	byFateKinds map[string]scenario.Backend
}

var (
	worldOnce sync.Once
	shared    *world
	worldErr  error
	closers   []func() error
)

// TestMain stops the registries shared by the read-only tests.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range closers {
		_ = c()
	}
	os.Exit(code)
}

// newWorld returns the one seeded world of this package: inspection only
// reads, so every test may share it.
func newWorld(t *testing.T) *world {
	t.Helper()
	tools.Buildx.Require(t)
	worldOnce.Do(func() { shared, worldErr = seedWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return shared
}

func seedWorld() (*world, error) {
	ctx := context.Background()
	var regs [3]*testreg.Registry
	for i := range regs {
		var opts []testreg.Option
		if i == 2 {
			opts = append(opts, testreg.WithAuth("ci", "s3cret-pass"))
		}
		r, err := testreg.New(opts...)
		if err != nil {
			return nil, err
		}
		closers = append(closers, r.Close)
		regs[i] = r
	}
	w := &world{quay: regs[0], hub: regs[1], byFate: map[scenario.Fate][]string{}, byFateKinds: map[string]scenario.Backend{}}
	w.locked = regs[2].Repo("mirror/backends")
	dir, err := os.MkdirTemp("", "remerge-inspect-test-")
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() error { return os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w.down = ln.Addr().String() + "/gone/backends"
	ln.Close()
	bin, err := tools.Buildx.Find()
	if err != nil {
		return nil, err
	}
	w.seeded, err = scenario.Seed(ctx, dir, w.quay.Registry, w.hub.Registry, scenario.DefaultRelease(), scenario.Demo(), testreg.ImageOptions{}, scenariotest.BuildxStepsAt(bin, dir))
	if err != nil {
		return nil, err
	}
	for _, b := range w.seeded.Backends {
		w.byFate[b.Fate] = append(w.byFate[b.Fate], b.Suffix)
		w.byFateKinds[b.Suffix] = b
	}
	w.client = registry.New(registry.Options{Timeout: 5 * time.Second, Retries: 1, MaxRetryAfter: time.Second, Keychain: authn.NewMultiKeychain()})
	if w.matrix, err = release.LoadMatrix(w.seeded.MatrixPath); err != nil {
		return nil, err
	}
	if w.digests, err = inspect.ReadDigestsDir(w.seeded.DigestsDir); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *world) run(t *testing.T, cfg release.Config, opts ...inspect.Option) *release.Report {
	t.Helper()
	opts = append([]inspect.Option{inspect.WithConfig(cfg), inspect.WithMatrix(w.matrix), inspect.WithClient(w.client)}, opts...)
	rep, err := inspect.Run(context.Background(), w.seeded.Release, opts...)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	return rep
}

func byName(rep *release.Report) map[string]*release.BackendReport {
	m := map[string]*release.BackendReport{}
	for _, b := range rep.Backends {
		m[b.Suffix] = b
	}
	return m
}

func TestInspectVerdictsAndStates(t *testing.T) {
	w := newWorld(t)
	cfg := w.seeded.Config
	cfg.Sources = []string{w.locked, w.down}

	var (
		mu     sync.Mutex
		events []inspect.Event
	)
	rep := w.run(t, cfg, inspect.WithDigests(w.digests), inspect.WithEvents(func(e inspect.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	got := byName(rep)

	want := map[scenario.Fate]release.Verdict{
		scenario.Healthy:   release.VerdictOK,
		scenario.Reaped:    release.VerdictRepairable,
		scenario.CrossOnly: release.VerdictRepairable,
		// Lost everywhere that answered, but the denied and the dead
		// extra sources could not be checked: not a rebuild order.
		scenario.Lost:       release.VerdictUnknown,
		scenario.Conflict:   release.VerdictConflict,
		scenario.Partial:    release.VerdictRepairable,
		scenario.Dangling:   release.VerdictRepairable,
		scenario.Unanchored: release.VerdictUnknown,
		scenario.Missing:    release.VerdictUnrepairable,
		scenario.HubSkipped: release.VerdictRepairable,
		scenario.NeverBuilt: release.VerdictUnknown,
	}
	for fate, suffixes := range w.byFate {
		for _, s := range suffixes {
			b := got[s]
			if b == nil {
				t.Fatalf("%s missing from report", s)
			}
			if b.Verdict != want[fate] {
				t.Errorf("%s (%s, %s): verdict %s, want %s; problems: %q", s, fate, b.Kind, b.Verdict, want[fate], b.Problems)
			}
		}
	}
	if len(rep.Backends) != len(w.seeded.Backends) {
		t.Errorf("%d backends in report, want %d", len(rep.Backends), len(w.seeded.Backends))
	}

	// Every cell and tag state shows up at least once.
	cells := map[release.CellState]bool{}
	tags := map[release.TagState]bool{}
	for _, b := range rep.Backends {
		for _, l := range b.Legs {
			for _, c := range l.Cells {
				cells[c.State] = true
				if (c.State == release.CellDenied || c.State == release.CellError) && c.Error == "" {
					t.Errorf("%s %s: %s cell without the registry's text", b.Suffix, l.PlatformTag, c.State)
				}
			}
		}
		for _, ts := range b.Targets {
			for _, st := range ts.Tags {
				tags[st.State] = true
			}
		}
	}
	for _, s := range []release.CellState{release.CellPresent, release.CellMissing, release.CellDenied, release.CellError, release.CellUnknown} {
		if !cells[s] {
			t.Errorf("no %s cell in the report", s)
		}
	}
	for _, s := range []release.TagState{release.TagComplete, release.TagPartial, release.TagStale, release.TagDangling, release.TagMissing} {
		if !tags[s] {
			t.Errorf("no %s tag in the report", s)
		}
	}

	// The incident's case, in plain words.
	kokoro := got["-cpu-kokoro"]
	if kokoro.Targets["quay"].State != release.TagMissing {
		t.Errorf("-cpu-kokoro quay release tag: %s, want missing", kokoro.Targets["quay"].State)
	}
	if l := kokoro.Legs[1]; l.Cells[cfg.Targets[0].Repo].State != release.CellMissing || l.Cells[cfg.Anchor].State != release.CellPresent {
		t.Errorf("-cpu-kokoro arm64 cells: %+v", l.Cells)
	}
	if !containsPrefix(kokoro.Problems, "arm64 manifest reaped from "+cfg.Targets[0].Repo+"; still in "+cfg.Anchor) {
		t.Errorf("-cpu-kokoro problems: %q", kokoro.Problems)
	}
	if !containsPrefix(kokoro.Impact, "latest-cpu-kokoro in quay: stale") {
		t.Errorf("-cpu-kokoro impact: %q", kokoro.Impact)
	}
	// The prefix-colliding pair is never confused: each has its own digests.
	kokoros := got["-cpu-kokoros"]
	if kokoros.Legs[0].Digest == kokoro.Legs[0].Digest || kokoros.Legs[0].Digest != w.seeded.Images["-cpu-kokoros"]["amd64"].Digest {
		t.Errorf("-cpu-kokoros amd64 digest %s confused with -cpu-kokoro's", kokoros.Legs[0].Digest)
	}
	if got["-cpu-vibevoice"].Legs[1].DigestFrom != release.FromDigests {
		t.Errorf("lost leg's digest from %q, want digests", got["-cpu-vibevoice"].Legs[1].DigestFrom)
	}
	if rep.Summary.OK == 0 || !rep.Summary.Broken() {
		t.Errorf("summary %+v", rep.Summary)
	}
	// The denied source is named once for the whole release, with the fix.
	lockedHost := strings.SplitN(w.locked, "/", 2)[0]
	if !containsPrefix(rep.Problems, lockedHost+": ") || !strings.Contains(strings.Join(rep.Problems, "\n"), "docker login "+lockedHost) {
		t.Errorf("no release-wide line for the denied registry %s: %q", lockedHost, rep.Problems)
	}

	// Events: a skeleton first, cells as they come, one verdict per backend.
	mu.Lock()
	defer mu.Unlock()
	start, ok := events[0].(inspect.StartEvent)
	if !ok {
		t.Fatalf("first event %T, want StartEvent", events[0])
	}
	if start.Report.Backends[0].Legs[0].Cells[cfg.Anchor].State != release.CellPending {
		t.Errorf("skeleton cell not pending")
	}
	verdicts, cellEvents, last := 0, 0, inspect.ProgressEvent{}
	for _, e := range events {
		switch e := e.(type) {
		case inspect.BackendEvent:
			verdicts++
		case inspect.CellEvent:
			cellEvents++
		case inspect.ProgressEvent:
			last = e
		}
	}
	if verdicts != len(rep.Backends) || cellEvents == 0 || last.Done != last.Total || last.Total != start.Probes {
		t.Errorf("events: %d verdicts for %d backends, %d cells, progress %+v of %d", verdicts, len(rep.Backends), cellEvents, last, start.Probes)
	}
}

func TestInspectWithoutDigestsFolderUsesAnchorsAndPublished(t *testing.T) {
	w := newWorld(t)
	rel := w.seeded.Release
	rel.Run = "" // newest run found among the anchors
	rep, err := inspect.Run(context.Background(), rel, inspect.WithConfig(w.seeded.Config), inspect.WithMatrix(w.matrix), inspect.WithClient(w.client))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Release.Run != scenario.DefaultRelease().Run {
		t.Errorf("run %q picked, want the newest, %s", rep.Release.Run, scenario.DefaultRelease().Run)
	}
	got := byName(rep)
	cross := got[w.byFate[scenario.CrossOnly][0]]
	if cross.Legs[0].DigestFrom != release.FromAnchor || cross.Legs[1].DigestFrom != release.FromPublished {
		t.Errorf("cross-only digests from %s/%s, want anchor/published", cross.Legs[0].DigestFrom, cross.Legs[1].DigestFrom)
	}
	if cross.Verdict != release.VerdictRepairable {
		t.Errorf("cross-only verdict %s; problems %q", cross.Verdict, cross.Problems)
	}
	// Without the digests folder the lost leg has no known digest at all.
	if v := got[w.byFate[scenario.Lost][0]].Verdict; v != release.VerdictUnknown {
		t.Errorf("lost without digests folder: %s, want unknown", v)
	}
}

func TestInspectDigestDisagreementIsAProblem(t *testing.T) {
	w := newWorld(t)
	s := w.byFate[scenario.Reaped][0] // its anchors are kept
	d := *w.digests
	d.Digests = map[string]map[string]string{s: {"amd64": "sha256:" + fill('a'), "arm64": w.seeded.Images[s]["arm64"].Digest}}
	rep := w.run(t, w.seeded.Config, inspect.WithDigests(&d), inspect.WithBackends(s))
	b := rep.Backends[0]
	if len(rep.Backends) != 1 || !containsPrefix(b.Problems, "amd64 digest disagreement") {
		t.Fatalf("problems %q", b.Problems)
	}
	if b.Verdict == release.VerdictOK {
		t.Errorf("a disagreeing digest left the backend ok")
	}
}

func TestInspectCancelledReturnsPromptly(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := inspect.Run(ctx, w.seeded.Release, inspect.WithConfig(w.seeded.Config), inspect.WithMatrix(w.matrix), inspect.WithClient(w.client))
	if err == nil {
		t.Fatal("no error from a cancelled inspection")
	}
}

func fill(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// TestInspectLostLegNeedsARebuild: when every repo answers and none holds
// a leg, the verdict is unrepairable and the problem says what to rebuild.
func TestInspectLostLegNeedsARebuild(t *testing.T) {
	w := newWorld(t)
	rep := w.run(t, w.seeded.Config, inspect.WithDigests(w.digests), inspect.WithBackends(w.byFate[scenario.Lost]...))
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictUnrepairable {
			t.Errorf("%s: %s, want unrepairable; problems %q", b.Suffix, b.Verdict, b.Problems)
		}
		if !containsPrefix(b.Problems, b.Legs[len(b.Legs)-1].PlatformTag+" manifest ") || !strings.Contains(strings.Join(b.Problems, "\n"), "rebuild "+b.Suffix) {
			t.Errorf("%s problems do not say what to rebuild: %q", b.Suffix, b.Problems)
		}
	}
}

// TestInspectTargetOutageIsNotABrokenRelease: with one target registry
// down, nothing is judged from silence: a backend complete in the other
// target is unknown (not repairable, never unrepairable), while one that is
// determined broken in the reachable target stays repairable.
func TestInspectTargetOutageIsNotABrokenRelease(t *testing.T) {
	w := newWorld(t)
	cfg := w.seeded.Config
	cfg.Targets = []release.Target{cfg.Targets[0], {Name: "dockerhub", Repo: w.down}}
	healthy, reaped := w.byFate[scenario.Healthy][0], w.byFate[scenario.Reaped][0]
	rep := w.run(t, cfg, inspect.WithDigests(w.digests), inspect.WithBackends(healthy, reaped))
	got := byName(rep)
	if v := got[healthy].Verdict; v != release.VerdictUnknown {
		t.Errorf("%s with docker.io down: %s, want unknown; problems %q", healthy, v, got[healthy].Problems)
	}
	if v := got[reaped].Verdict; v != release.VerdictRepairable {
		t.Errorf("%s with docker.io down: %s, want repairable (quay is determined broken)", reaped, v)
	}
	downHost := strings.SplitN(w.down, "/", 2)[0]
	if !containsPrefix(rep.Problems, downHost+": ") || !strings.Contains(strings.Join(rep.Problems, "\n"), "connection refused") {
		t.Errorf("no release-wide line names the unreachable registry %s: %q", downHost, rep.Problems)
	}
	for _, b := range rep.Backends {
		for _, p := range b.Problems {
			if strings.Contains(p, "rebuild") {
				t.Errorf("%s: an outage produced a rebuild order: %q", b.Suffix, p)
			}
			if strings.Contains(p, "not trying https") {
				t.Errorf("%s: problem carries the ping story, not the refused dial: %q", b.Suffix, p)
			}
		}
	}
}
