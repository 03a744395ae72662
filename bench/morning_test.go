package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// The morning after a failed release: the same LocalAI-size matrix, but
// two backends in three unpublished in at least one target (the quay step
// failed; for half of them Docker Hub's never ran), so most release tags
// are absent and about 260 backends are repairable.
const (
	// historyTags is the older tags each target also holds in the
	// tag-history variant, listed historyPage a page.
	historyTags = 50000
	historyPage = 100
	// imageBlobs is the blobs of one seeded child: its config and two
	// layers (loopreg's default image).
	imageBlobs = 3
)

// morningBackends is scenario.Generated's matrix with the morning-after
// fates: a third each hub-skipped, reaped, healthy; one in 47 lost.
func morningBackends() []scenario.Backend {
	bs := scenario.Generated(genBackends, genPairs)
	for i := range bs {
		switch {
		case bs[i].Fate == scenario.Lost:
		case i%3 == 0:
			bs[i].Fate = scenario.HubSkipped
		case i%3 == 1:
			bs[i].Fate = scenario.Reaped
		default:
			bs[i].Fate = scenario.Healthy
		}
	}
	return bs
}

// repairAllRun is one `remerge repair --all --yes` of the whole release
// by the binary, counted at the proxies.
type repairAllRun struct {
	latency     time.Duration
	concurrency int
	wall        time.Duration
	started     time.Time
	// cpu is remerge's user plus system CPU time; serverCPU the bench
	// process's meanwhile (the registries and proxies serving it).
	cpu, serverCPU time.Duration
	exit           int
	quay, hub      testreg.Stats
	// inspectReqs is what the inspection inside the run sends: a
	// stand-alone inspect of the same state, counted just before.
	inspectReqs int
	// inspectPulls is that inspect's Docker Hub pulls; pullsNeeded the
	// fewest the plans need (pullsNeeded).
	inspectPulls, pullsNeeded int
	min                       minimum
	// left is the verdicts of an inspect right after the run.
	after release.Summary
}

func (r *repairAllRun) total() int { return r.quay.Total() + r.hub.Total() }

func (r *repairAllRun) bound() time.Duration {
	return boundOf([]int{r.quay.Total(), r.hub.Total()}, r.concurrency, r.latency)
}

func (r *repairAllRun) ratio() float64 {
	if r.bound() <= 0 {
		return 0
	}
	return float64(r.wall) / float64(r.bound())
}

// repairReqs is the run's requests beyond its inspection: planning and
// executing.
func (r *repairAllRun) repairReqs() int { return r.total() - r.inspectReqs }

// minimum is the fewest requests the plans and executions of a release
// need, counted from the inspection's report (see README.md):
//   - per leg of a pair: its child manifest and config read from a source
//     (2 GETs), each of its blobs looked up in the target once, and when
//     the target lacks the child, one PUT;
//   - per tag of a pair: one HEAD when planning (where it points now);
//   - per pair that writes: one PUT of the list, and per tag that moves a
//     HEAD just before its write (the guard), the PUT, and a HEAD reading
//     it back;
//   - the blob mounts and uploads the run sent (what the target lacked),
//     and one ping per registry.
type minimum struct {
	pairs, writing, legs, childPuts, tags, moves, mounts, pings int
}

func (m minimum) total() int {
	return m.legs*(2+imageBlobs) + m.tags + m.writing + 3*m.moves + m.mounts + m.pings + m.childPuts
}

// minimumOf counts the minimum from the report taken before the run and
// the blob writes and pings the run sent.
func minimumOf(rep *release.Report, quay, hub testreg.Stats) minimum {
	m := minimum{pings: 2}
	for _, s := range []testreg.Stats{quay, hub} {
		m.mounts += s.Requests("", testreg.KindUpload)
	}
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictRepairable {
			continue
		}
		for _, ts := range b.Targets {
			m.pairs++
			writes := ts.State != release.TagComplete
			for _, l := range b.Legs {
				m.legs++
				if l.Cells[ts.Repo].State != release.CellPresent {
					m.childPuts++
					writes = true
				}
			}
			m.tags += len(ts.Tags)
			if !writes {
				continue
			}
			m.writing++
			for _, st := range ts.Tags {
				if st.State != release.TagComplete && st.Newer == "" {
					m.moves++
				}
			}
		}
	}
	return m
}

// runRepairAll runs `remerge repair --all --yes` over the release with the
// proxies at latency d, output to a pipe (no terminal), then inspects at
// no latency to see what is left. before is an inspect of the same state
// just before, for the minimum and the inspection's share.
func (f *fixture) runRepairAll(ctx context.Context, d time.Duration, conc int, before *inspectRun, name string, faults ...testreg.Fault) (*repairAllRun, error) {
	f.setLatency(d, faults...)
	rel := f.release()
	cache, err := f.freshCache()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, f.remerge, "repair", "--all", "--yes",
		"--config", f.cfgPath, "--release", rel.Ref, "--run", rel.Run, "--sha", rel.SHA,
		"--audit", filepath.Join(f.dir, "audit-"+name+".jsonl"), "--concurrency", strconv.Itoa(conc))
	cmd.Dir = f.dir
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+f.dockerConfig, cas.DirEnv+"="+cache)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	self0 := selfCPU()
	start := time.Now()
	err = cmd.Run()
	r := &repairAllRun{latency: d, concurrency: conc, wall: time.Since(start), started: start, serverCPU: selfCPU() - self0,
		quay: f.quayProxy.Stats(), hub: f.hubProxy.Stats(), inspectReqs: before.total(), inspectPulls: before.pulls()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	f.clearFaults()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		r.exit = 1
	default:
		return nil, fmt.Errorf("remerge repair --all: %w\n%s", err, stderr.Bytes())
	}
	r.min = minimumOf(before.report, r.quay, r.hub)
	r.pullsNeeded = pullsNeeded(before.report, f.hubProxy.Host())
	after, err := f.runInspect(ctx, 0, conc)
	if err != nil {
		return nil, fmt.Errorf("inspect after repair --all: %w", err)
	}
	r.after = after.report.Summary
	return r, nil
}

// seedHistory gives each target n older tags of every backend (old
// releases and sha- tags of master builds), all naming one small index,
// put straight into the registries, many at once.
func (f *fixture) seedHistory(ctx context.Context, n int) error {
	const index = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	var next atomic.Int64
	for range 32 {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= 2*n {
					return nil
				}
				reg, repo := f.quay, scenario.QuayTarget
				if i%2 == 1 {
					reg, repo = f.hub, scenario.HubTarget
				}
				k := i / 2
				be := f.backends[k%len(f.backends)]
				tag := fmt.Sprintf("v1.%d.%d%s", k/1000, k%1000, be.Suffix)
				if k%2 == 1 {
					tag = fmt.Sprintf("sha-%07x%s", k, be.Suffix)
				}
				if err := reg.PutManifest(gctx, repo, tag, []byte(index), "application/vnd.oci.image.index.v1+json"); err != nil {
					return fmt.Errorf("seeding history tag %s: %w", tag, err)
				}
			}
		})
	}
	return g.Wait()
}

// morningRun is the morning-after release: inspect and repair --all at
// 20 ms, then the same again on the same state (restored) with tag
// history in both targets.
type morningRun struct {
	f                    *fixture
	inspect, histInspect *inspectRun
	repair, histRepair   *repairAllRun
	// floorInspect and floorRepair are the same runs at no latency.
	floorInspect *inspectRun
	floorRepair  *repairAllRun
	// throttledRepair is repair --all at 20 ms with 30% of requests
	// answered like quay.io throttles (HTML 429, no Retry-After);
	// throttledAfter is what an inspect finds once it is done.
	throttledRepair        *repairAllRun
	historySeed            time.Duration
	historyListed, pageLen int
	historyPages           int
}

// measureMorning seeds the morning-after release in registries of its
// own (binaries from main) and runs its measurements; with plainOnly,
// only the inspect and repair --all at the last latency.
func measureMorning(ctx context.Context, main *fixture, plainOnly bool, logf func(string, ...any)) (*morningRun, error) {
	f, err := newFixtureOf(ctx, morningBackends(), main, testreg.WithTagPage(historyPage))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := f.Close(); err != nil {
			logf("closing morning fixture: %v", err)
		}
	}()
	logf("seeded the morning-after release in %s", f.seedTime.Round(time.Millisecond))
	m := &morningRun{f: f, pageLen: historyPage}
	restoreQuay, restoreHub := f.quay.Checkpoint(), f.hub.Checkpoint()
	last := latencies[len(latencies)-1]
	if m.inspect, m.repair, err = f.inspectAndRepair(ctx, last, "plain", logf); err != nil {
		return nil, err
	}
	if plainOnly {
		return m, nil
	}
	restoreQuay()
	restoreHub()
	// The same repair under quay-style throttling, from the same state.
	if m.throttledRepair, err = f.runRepairAll(ctx, last, concurrency, m.inspect, "throttled", testreg.QuayThrottle(throttleRate)); err != nil {
		return nil, fmt.Errorf("throttled repair --all: %w", err)
	}
	logf("repair --all under %.0f%% throttling at %s: %s (%.2fx the clean one's %s), %d 429s, after: %+v", throttleRate*100, last,
		m.throttledRepair.wall.Round(time.Millisecond), float64(m.throttledRepair.wall)/float64(m.repair.wall), m.repair.wall.Round(time.Millisecond),
		m.throttledRepair.quay.Status(429)+m.throttledRepair.hub.Status(429), m.throttledRepair.after)
	restoreQuay()
	restoreHub()
	// The same at no added latency: what the requests cost on this
	// machine (CPU of remerge, the registries and the proxies) when no
	// round trip is there to hide it.
	if m.floorInspect, m.floorRepair, err = f.inspectAndRepair(ctx, 0, "floor", logf); err != nil {
		return nil, err
	}
	restoreQuay()
	restoreHub()
	start := time.Now()
	if err := f.seedHistory(ctx, historyTags); err != nil {
		return nil, err
	}
	m.historySeed = time.Since(start)
	// What a client that does list the target pays: pages of 100.
	f.quay.ResetStats()
	repo, err := name.NewRepository(f.quay.Repo(scenario.QuayTarget), name.Insecure)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(repo, remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("listing quay's target: %w", err)
	}
	m.historyListed, m.historyPages = len(tags), f.quay.Stats().Requests("GET", testreg.KindTags)
	logf("seeded %d history tags per target in %s; quay's target lists %d tags in %d pages", historyTags, m.historySeed.Round(time.Millisecond), len(tags), m.historyPages)
	if m.histInspect, m.histRepair, err = f.inspectAndRepair(ctx, last, "history", logf); err != nil {
		return nil, err
	}
	return m, nil
}

// inspectAndRepair is one inspect then one repair --all of the state.
func (f *fixture) inspectAndRepair(ctx context.Context, d time.Duration, name string, logf func(string, ...any)) (*inspectRun, *repairAllRun, error) {
	ir, err := f.runInspect(ctx, d, concurrency)
	if err != nil {
		return nil, nil, fmt.Errorf("morning-after inspect (%s): %w", name, err)
	}
	logf("morning-after inspect (%s) at %s: %s, %d requests, bound %s (%.2fx)", name, d, ir.wall.Round(time.Millisecond), ir.total(), ir.bound(), ir.ratio())
	rr, err := f.runRepairAll(ctx, d, concurrency, ir, name)
	if err != nil {
		return nil, nil, fmt.Errorf("morning-after repair --all (%s): %w", name, err)
	}
	logf("repair --all (%s) at %s: %s, %d requests (%d beyond its inspect, minimum %d), bound %s (%.2fx), exit %d, after: %+v",
		name, d, rr.wall.Round(time.Millisecond), rr.total(), rr.repairReqs(), rr.min.total(), rr.bound(), rr.ratio(), rr.exit, rr.after)
	return ir, rr, nil
}
