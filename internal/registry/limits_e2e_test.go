package registry_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
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
	"github.com/go-skynet/remerge/repair"
)

// These tests run inspect and repair, through their public APIs, against
// real registries behind fault proxies, and judge the client layer by what
// the registries saw: the same report under throttling as without it, and
// never more requests in flight at a registry than the client's limit.

// proxiedRelease is a seeded release seen through one proxy per registry.
type proxiedRelease struct {
	*scenariotest.Fixture
	quay, hub *testreg.FaultProxy
	cfg       release.Config // names the proxies
}

func newProxiedRelease(t *testing.T, backends []scenario.Backend, opt testreg.ImageOptions) *proxiedRelease {
	t.Helper()
	f := scenariotest.Start(t, backends, opt)
	pr := &proxiedRelease{
		Fixture: f,
		quay:    testreg.StartFaultProxy(t, f.Quay.Host, testreg.WithSeed(11)),
		hub:     testreg.StartFaultProxy(t, f.Hub.Host, testreg.WithSeed(12)),
	}
	pr.cfg = f.Config
	pr.cfg.Anchor = pr.via(pr.cfg.Anchor)
	pr.cfg.Targets = slices.Clone(pr.cfg.Targets)
	for i := range pr.cfg.Targets {
		pr.cfg.Targets[i].Repo = pr.via(pr.cfg.Targets[i].Repo)
	}
	return pr
}

// via rewrites a repo of one of the registries to go through its proxy.
func (pr *proxiedRelease) via(repo string) string {
	for _, hp := range []struct{ reg, proxy string }{{pr.Quay.Host, pr.quay.Host()}, {pr.Hub.Host, pr.hub.Host()}} {
		if strings.HasPrefix(repo, hp.reg+"/") {
			return hp.proxy + strings.TrimPrefix(repo, hp.reg)
		}
	}
	return repo
}

func (pr *proxiedRelease) proxies() []*testreg.FaultProxy {
	return []*testreg.FaultProxy{pr.quay, pr.hub}
}

func (pr *proxiedRelease) resetStats() {
	for _, p := range pr.proxies() {
		p.ResetStats()
	}
}

func (pr *proxiedRelease) inspect(t *testing.T, c *registry.Client) *release.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := inspect.Run(ctx, pr.Seeded.Release, inspect.WithConfig(pr.cfg), inspect.WithMatrix(pr.Matrix),
		inspect.WithDigests(pr.Digests), inspect.WithClient(c))
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	return rep
}

func client(t *testing.T, opts registry.Options) *registry.Client {
	t.Helper()
	opts.Keychain = authn.NewMultiKeychain()
	c := registry.New(opts)
	t.Cleanup(c.Close)
	return c
}

// facts is the report as scripts read it (the JSON of its backends), the
// thing that must not depend on how the registries behaved.
func facts(t *testing.T, rep *release.Report) string {
	t.Helper()
	b, err := json.MarshalIndent(rep.Backends, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestThrottledInspectMatchesClean: with 30% of all requests answered as
// quay.io throttles (429, HTML, no Retry-After), inspect reports the same
// verdicts, digests, cells and tags as with no throttling at all, and the
// registries never see more than the limit in flight.
func TestThrottledInspectMatchesClean(t *testing.T) {
	t.Parallel()
	pr := newProxiedRelease(t, scenario.Generated(24, 6), testreg.ImageOptions{})
	const limit = 4
	clean := pr.inspect(t, client(t, registry.Options{Concurrency: limit}))

	pr.resetStats()
	for _, p := range pr.proxies() {
		p.SetLatency(2 * time.Millisecond)
		p.Add(testreg.QuayThrottle(0.3))
	}
	throttled := pr.inspect(t, client(t, registry.Options{Concurrency: limit}))
	var seen int
	for _, p := range pr.proxies() {
		s := p.Stats()
		seen += s.Status(http.StatusTooManyRequests)
		if s.PeakInFlight() > limit {
			t.Errorf("proxy %s saw %d requests in flight, limit %d", p.Host(), s.PeakInFlight(), limit)
		}
	}
	if seen == 0 {
		t.Fatal("no request was throttled: the test proves nothing")
	}
	if a, b := facts(t, clean), facts(t, throttled); a != b {
		t.Errorf("throttled report differs from the clean one (%d 429s seen)\nclean:\n%s\nthrottled:\n%s", seen, a, b)
	}
	if clean.Summary != throttled.Summary {
		t.Errorf("summary %+v, clean %+v", throttled.Summary, clean.Summary)
	}
	t.Logf("%d requests throttled; summary %+v", seen, throttled.Summary)
}

// TestLimitHoldsAtTheRegistry: an inspect, then re-merges of several
// backends at once whose children survive only in the other registry (so
// blob bodies stream from one registry while the other receives them):
// neither registry ever answers more requests at once than the client's
// limit, and the re-merges complete (a limit that held by deadlocking would
// fail here by the test's timeout). A limit of 1 is left out on purpose:
// there a blob download gives its slot back with its headers (see
// hostState.acquire), since holding it would deadlock a same-registry copy
// whose mount is declined, so a streaming body may overlap one request.
func TestLimitHoldsAtTheRegistry(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{2, 3} {
		t.Run(string(rune('0'+limit)), func(t *testing.T) {
			t.Parallel()
			// Every multi-arch backend that would be reaped is reaped from
			// both quay repos, blob links too: only Docker Hub holds its
			// arm64 child, so repairing quay streams bytes across.
			backends := scenario.Generated(12, 6)
			var repaired []string
			for i, b := range backends {
				if b.Fate == scenario.Reaped && b.Kind == release.KindMultiarch {
					backends[i].Fate = scenario.CrossOnly
					repaired = append(repaired, b.Suffix)
				}
			}
			if len(repaired) < 2 {
				t.Fatalf("want at least 2 backends to repair, got %v", repaired)
			}
			pr := newProxiedRelease(t, backends, testreg.ImageOptions{Layers: 2, LayerSize: 256 << 10})
			ctx := context.Background()
			for _, p := range pr.proxies() {
				p.SetLatency(3 * time.Millisecond)
			}
			c := client(t, registry.Options{Concurrency: limit})
			start := time.Now()
			rep := pr.inspect(t, c)
			t.Logf("inspect %s", time.Since(start))
			start = time.Now()
			defer func() { t.Logf("repairs %s", time.Since(start)) }()

			var wg sync.WaitGroup
			errs := make(chan error, len(rep.Backends))
			for _, b := range rep.Backends {
				if b.Verdict != release.VerdictRepairable {
					continue
				}
				wg.Go(func() {
					plan, err := repair.NewPlan(ctx, c, pr.cfg, pr.Seeded.Release, b, "quay")
					if err == nil {
						_, err = repair.Execute(ctx, c, plan)
					}
					if err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("repair: %v", err)
			}
			for _, p := range pr.proxies() {
				s := p.Stats()
				if s.PeakInFlight() > limit {
					t.Errorf("proxy %s saw %d requests in flight, limit %d\n%s", p.Host(), s.PeakInFlight(), limit, s)
				}
				if s.Requests("GET", testreg.KindBlob) == 0 && p == pr.hub {
					t.Errorf("no blob was read from Docker Hub's side: the test streams no body\n%s", s)
				}
			}
			after := pr.inspect(t, c)
			for _, b := range after.Backends {
				if slices.Contains(repaired, b.Suffix) && b.Targets["quay"].State != release.TagComplete {
					t.Errorf("%s in quay after repair: %s", b.Suffix, b.Targets["quay"].State)
				}
			}
		})
	}
}
