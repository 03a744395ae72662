package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"go.uber.org/goleak"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// These tests put fault proxies in front of the shared seeded world and
// check that what inspect concludes does not depend on how badly the
// registries behave, only on what they hold.

// proxiedWorld is the shared world seen through one fault proxy per
// registry: cfg names the proxies where the seeded config names the
// registries.
type proxiedWorld struct {
	*world
	cfg       release.Config
	quay, hub *testreg.FaultProxy
}

func newProxiedWorld(t *testing.T, seed int64) *proxiedWorld {
	t.Helper()
	w := newWorld(t)
	pw := &proxiedWorld{
		world: w,
		quay:  testreg.StartFaultProxy(t, w.quay.Host, testreg.WithSeed(seed)),
		hub:   testreg.StartFaultProxy(t, w.hub.Host, testreg.WithSeed(seed+1)),
	}
	pw.cfg = w.seeded.Config
	pw.cfg.Anchor = pw.via(pw.cfg.Anchor)
	pw.cfg.Targets = slices.Clone(pw.cfg.Targets)
	for i := range pw.cfg.Targets {
		pw.cfg.Targets[i].Repo = pw.via(pw.cfg.Targets[i].Repo)
	}
	return pw
}

// via rewrites a repo on one of the world's registries to go through its
// proxy.
func (pw *proxiedWorld) via(repo string) string {
	for _, hp := range []struct{ reg, proxy string }{{pw.world.quay.Host, pw.quay.Host()}, {pw.world.hub.Host, pw.hub.Host()}} {
		if strings.HasPrefix(repo, hp.reg+"/") {
			return hp.proxy + strings.TrimPrefix(repo, hp.reg)
		}
	}
	return repo
}

// faultClient is a client whose waits are short enough for tests.
func faultClient(t *testing.T, opts registry.Options) *registry.Client {
	t.Helper()
	opts.Keychain = authn.NewMultiKeychain()
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	c := registry.New(opts)
	t.Cleanup(c.Close)
	return c
}

// clean is the inspection of the shared world with no proxy in between.
func (w *world) clean(t *testing.T, opts ...inspect.Option) *release.Report {
	t.Helper()
	return w.run(t, w.seeded.Config, append([]inspect.Option{inspect.WithDigests(w.digests)}, opts...)...)
}

// shape is what a report concludes, keyed by column position rather than
// repo name so that reports made through proxies compare with a clean one:
// verdicts, digests and their source, cell states, tag states.
func shape(rep *release.Report, skipCols ...int) map[string]string {
	out := map[string]string{}
	for _, b := range rep.Backends {
		out[b.Suffix] = string(b.Verdict)
		for _, l := range b.Legs {
			out[b.Suffix+" "+l.PlatformTag+" digest"] = l.Digest + " from " + string(l.DigestFrom)
			for i, r := range rep.Repos {
				if !slices.Contains(skipCols, i) {
					out[fmt.Sprintf("%s %s col%d", b.Suffix, l.PlatformTag, i)] = string(l.Cells[r.Repo].State)
				}
			}
		}
		for name, ts := range b.Targets {
			for tag, st := range ts.Tags {
				out[b.Suffix+" "+name+" "+tag] = string(st.State) + " " + st.Digest
			}
		}
	}
	return out
}

// diffShapes lists the keys whose values differ, sorted.
func diffShapes(want, got map[string]string) []string {
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: got %q, want %q", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: got %q, want nothing", k, v))
		}
	}
	sort.Strings(diffs)
	return diffs
}

func assertSameShape(t *testing.T, want, got map[string]string) {
	t.Helper()
	if d := diffShapes(want, got); len(d) > 0 {
		if len(d) > 20 {
			d = append(d[:20], fmt.Sprintf("... and %d more", len(d)-20))
		}
		t.Errorf("report differs from the clean run:\n%s", strings.Join(d, "\n"))
	}
}

// 5xx and dropped connections, one request in five, on both registries and
// every kind of request: retries absorb them and the report is exactly the
// clean one.
func TestInspectUnderErrorsAndResetsMatchesCleanRun(t *testing.T) {
	t.Parallel()
	pw := newProxiedWorld(t, 42)
	want := shape(pw.clean(t))
	for _, p := range []*testreg.FaultProxy{pw.quay, pw.hub} {
		p.Add(testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusBadGateway, Rate: 0.05})
		p.Add(testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusServiceUnavailable, Rate: 0.05})
		p.Add(testreg.Fault{Effect: testreg.EffectReset, Rate: 0.1})
	}
	c := faultClient(t, registry.Options{Retries: 8, MaxRetryAfter: 20 * time.Millisecond})
	rep, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
		inspect.WithDigests(pw.digests), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	assertSameShape(t, want, shape(rep))
	for _, p := range []*testreg.FaultProxy{pw.quay, pw.hub} {
		faulted := 0
		for _, a := range p.Arrivals() {
			if a.Effect != "" {
				faulted++
			}
		}
		if faulted == 0 {
			t.Errorf("no fault injected through %s: the test proves nothing", p.Host())
		}
	}
}

// 429 with Retry-After: 2 on quay's registry: no request reaches it before
// the time it named, docker.io is served meanwhile, and the report is the
// clean one.
func TestInspectHonoursRetryAfterPerRegistry(t *testing.T) {
	t.Parallel()
	pw := newProxiedWorld(t, 7)
	want := shape(pw.clean(t))
	pw.quay.Add(testreg.Fault{Effect: testreg.EffectThrottle, RetryAfter: 2 * time.Second, Times: 2})
	// One request at a time per registry, so every arrival after a 429 was
	// sent after the client read it.
	c := faultClient(t, registry.Options{Concurrency: 1, Retries: 3, MaxRetryAfter: 3 * time.Second})
	rep, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
		inspect.WithDigests(pw.digests), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	assertSameShape(t, want, shape(rep))

	arrivals := pw.quay.Arrivals()
	throttled := 0
	for i, a := range arrivals {
		if a.Effect != testreg.EffectThrottle {
			continue
		}
		throttled++
		for _, later := range arrivals[i+1:] {
			if later.At.Before(a.RetryAt) {
				t.Errorf("%s %s reached quay %v before the Retry-After of the 429 at %s expired",
					later.Method, later.Path, a.RetryAt.Sub(later.At), a.At.Format(time.StampMilli))
			}
		}
	}
	if throttled != 2 {
		t.Fatalf("%d requests throttled, want 2", throttled)
	}
	first := slices.IndexFunc(arrivals, func(a testreg.Arrival) bool { return a.Effect == testreg.EffectThrottle })
	during := 0
	for _, a := range pw.hub.Arrivals() {
		if a.At.After(arrivals[first].At) && a.At.Before(arrivals[first].RetryAt) {
			during++
		}
	}
	if during == 0 {
		t.Error("docker.io got no request while quay was paused: the pause is not per registry")
	}
}

// A source repo that never answers: its cells say timeout, every other
// cell and tag is what the clean run found, and the release finishes.
func TestInspectStalledSourceTimesOutAlone(t *testing.T) {
	t.Parallel()
	pw := newProxiedWorld(t, 3)
	// A few backends of each shape keep the timeouts few.
	suffixes := []string{pw.byFate[scenario.Healthy][0], pw.byFate[scenario.Reaped][0], pw.byFate[scenario.CrossOnly][0], pw.byFate[scenario.Unanchored][0]}
	for _, b := range pw.seeded.Backends {
		if b.Kind == release.KindSingle && b.Fate == scenario.Reaped {
			suffixes = append(suffixes, b.Suffix)
			break
		}
	}
	want := shape(pw.clean(t, inspect.WithBackends(suffixes...)))

	stalled := pw.quay.Repo("stalled/backends")
	pw.quay.Add(testreg.Fault{Match: testreg.Match{PathContains: "/stalled/"}, Effect: testreg.EffectStall})
	cfg := pw.cfg
	cfg.Sources = []string{stalled}
	c := faultClient(t, registry.Options{Timeout: time.Second, Retries: -1})
	rep, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(cfg), inspect.WithMatrix(pw.matrix),
		inspect.WithDigests(pw.digests), inspect.WithClient(c), inspect.WithBackends(suffixes...))
	if err != nil {
		t.Fatal(err)
	}
	col := len(rep.Repos) - 1
	if rep.Repos[col].Repo != stalled {
		t.Fatalf("last column %s, want the stalled source", rep.Repos[col].Repo)
	}
	got := shape(rep, col)
	for k := range got {
		if strings.HasSuffix(k, " digest") || strings.Contains(k, " col") || strings.Contains(k, " quay ") || strings.Contains(k, " dockerhub ") {
			continue
		}
		delete(got, k) // verdicts may differ: a source in error is a finding
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			delete(want, k)
		}
	}
	assertSameShape(t, want, got)
	errs := 0
	for _, b := range rep.Backends {
		for _, l := range b.Legs {
			c := l.Cells[stalled]
			switch {
			case l.Digest == "" && c.State == release.CellUnknown:
			case c.State == release.CellError && strings.Contains(c.Error, "timeout"):
				errs++
			default:
				t.Errorf("%s %s stalled cell: %s %q, want error saying timeout", b.Suffix, l.PlatformTag, c.State, c.Error)
			}
		}
		if b.Verdict == release.VerdictPending {
			t.Errorf("%s left pending", b.Suffix)
		}
	}
	if errs == 0 {
		t.Error("no stalled cell was probed")
	}
}

// Cancelling mid-inspection returns the context's error and leaves no
// goroutine behind.
func TestInspectCancelledMidwayLeavesNoGoroutine(t *testing.T) {
	pw := newProxiedWorld(t, 5)
	pw.quay.SetLatency(20 * time.Millisecond)
	pw.hub.SetLatency(20 * time.Millisecond)
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain(), Timeout: 5 * time.Second})
	ignore := goleak.IgnoreCurrent()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cells := 0
	rep, err := inspect.Run(ctx, pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
		inspect.WithDigests(pw.digests), inspect.WithClient(c), inspect.WithEvents(func(e inspect.Event) {
			if _, ok := e.(inspect.CellEvent); ok {
				if cells++; cells == 10 {
					cancel()
				}
			}
		}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if rep == nil || len(rep.Backends) != len(pw.seeded.Backends) {
		t.Errorf("no partial report returned with the error")
	}
	c.Close()
	for _, p := range []*testreg.FaultProxy{pw.quay, pw.hub} {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
	goleak.VerifyNone(t, ignore)
}
