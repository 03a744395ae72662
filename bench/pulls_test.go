package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/internal/release"
)

// Docker Hub counts every manifest GET as a pull (100 per 6 h for an
// anonymous IP); HEADs and blob GETs are free. The docker.io-side proxy
// counts what Docker Hub would: its manifest GETs.
const (
	// maxColdPulls and maxWarmPulls are the targets for a first
	// inspect (empty cache) and a second one (the cache the first left).
	maxColdPulls = 50
	maxWarmPulls = 10
)

// pullsRun is the full inspect three times at no latency: with
// --no-cache (the reference), then twice sharing one cache directory,
// first empty (cold), then as the first left it (warm).
type pullsRun struct {
	noCache, cold, warm *inspectRun
}

// runPulls runs the three inspects.
func (f *fixture) runPulls(ctx context.Context, logf func(string, ...any)) (*pullsRun, error) {
	pr := &pullsRun{}
	var err error
	if pr.noCache, err = f.runInspectCached(ctx, 0, concurrency, ""); err != nil {
		return nil, fmt.Errorf("inspect --no-cache: %w", err)
	}
	cache, err := f.freshCache()
	if err != nil {
		return nil, err
	}
	if pr.cold, err = f.runInspectCached(ctx, 0, concurrency, cache); err != nil {
		return nil, fmt.Errorf("first inspect with a cache: %w", err)
	}
	if pr.warm, err = f.runInspectCached(ctx, 0, concurrency, cache); err != nil {
		return nil, fmt.Errorf("second inspect with a cache: %w", err)
	}
	for _, r := range []struct {
		name string
		ir   *inspectRun
	}{{"--no-cache", pr.noCache}, {"first, empty cache", pr.cold}, {"second, warm cache", pr.warm}} {
		logf("inspect (%s): %d Docker Hub pulls, %d requests", r.name, r.ir.pulls(), r.ir.total())
	}
	return pr, nil
}

// pullsNeeded is the fewest Docker Hub pulls the plans of a repair need:
// one per distinct child of a repairable backend that no repo outside the
// docker.io side holds (its bytes can be read nowhere else). Every other
// child is read from quay's side or the cache, and lists are written, not
// read.
func pullsNeeded(rep *release.Report, hubHost string) int {
	need := map[string]bool{}
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictRepairable {
			continue
		}
		for _, l := range b.Legs {
			elsewhere, onHub := false, false
			for repo, c := range l.Cells {
				if c.State != release.CellPresent {
					continue
				}
				if strings.HasPrefix(repo, hubHost+"/") {
					onHub = true
				} else {
					elsewhere = true
				}
			}
			if onHub && !elsewhere && l.Digest != "" {
				need[l.Digest] = true
			}
		}
	}
	return len(need)
}

// repairPulls is the run's Docker Hub pulls beyond its inspection.
func (r *repairAllRun) repairPulls() int {
	return r.hub.Requests("GET", "manifest") - r.inspectPulls
}

// pullTargets judges the pull goals.
func (m *measurement) pullTargets() []target {
	pr := m.pulls
	if pr == nil {
		return nil
	}
	same := func(ir *inspectRun) string {
		if d := firstDiff(pr.noCache.report, ir.report); d != "" {
			return "differs: " + short80(d)
		}
		return "same verdicts, digests, cells and tags as --no-cache"
	}
	out := []target{
		{
			name:     fmt.Sprintf("first inspect (empty cache) at most %d Docker Hub pulls, same report", maxColdPulls),
			measured: fmt.Sprintf("%d pulls (--no-cache: %d); %s", pr.cold.pulls(), pr.noCache.pulls(), same(pr.cold)),
			pass:     pr.cold.pulls() <= maxColdPulls && firstDiff(pr.noCache.report, pr.cold.report) == "",
		},
		{
			name:     fmt.Sprintf("second inspect (warm cache) at most %d Docker Hub pulls, same report", maxWarmPulls),
			measured: fmt.Sprintf("%d pulls; %s", pr.warm.pulls(), same(pr.warm)),
			pass:     pr.warm.pulls() <= maxWarmPulls && firstDiff(pr.noCache.report, pr.warm.report) == "",
		},
	}
	if mo := m.morning; mo != nil && mo.repair != nil {
		r := mo.repair
		out = append(out, target{
			name: "repair --all spends no more Docker Hub pulls than its plans need",
			measured: fmt.Sprintf("%d pulls beyond its inspect (%d) vs %d needed", r.repairPulls(),
				r.inspectPulls, r.pullsNeeded),
			pass: r.repairPulls() <= r.pullsNeeded,
		})
	}
	return out
}

// writePulls writes the pulls section of results.md.
func (m *measurement) writePulls(b *strings.Builder) {
	pr := m.pulls
	if pr == nil {
		return
	}
	b.WriteString("## Docker Hub pulls\n\n")
	b.WriteString("Docker Hub counts every manifest GET as a pull (HEADs and blob GETs are free); the docker.io-side proxy counts them, and answers with Docker Hub's `ratelimit-limit` header, from which remerge learns that this registry counts pulls. The full inspect at 0 ms, three times: with `--no-cache`, then twice sharing one cache directory (`REMERGE_CACHE_DIR`), first empty, then as the first run left it.\n\n")
	b.WriteString("| run | Docker Hub pulls | docker.io manifest HEADs | docker.io requests | all requests | wall |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		ir   *inspectRun
	}{{"inspect --no-cache", pr.noCache}, {"inspect, empty cache", pr.cold}, {"inspect, warm cache", pr.warm}} {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %s |\n", r.name, r.ir.pulls(), r.ir.hub.Requests("HEAD", "manifest"),
			r.ir.hub.Total(), r.ir.total(), secs(r.ir.wall))
	}
	if mo := m.morning; mo != nil && mo.inspect != nil && mo.repair != nil {
		fmt.Fprintf(b, "| morning-after inspect (20 ms), empty cache | %d | %d | %d | %d | %s |\n", mo.inspect.pulls(),
			mo.inspect.hub.Requests("HEAD", "manifest"), mo.inspect.hub.Total(), mo.inspect.total(), secs(mo.inspect.wall))
		r := mo.repair
		fmt.Fprintf(b, "| morning-after `repair --all` (20 ms), empty cache | %d | %d | %d | %d | %s |\n", r.hub.Requests("GET", "manifest"),
			r.hub.Requests("HEAD", "manifest"), r.hub.Total(), r.total(), secs(r.wall))
		fmt.Fprintf(b, "\n`repair --all` runs its own inspection first (%d pulls in the stand-alone inspect of the same state), so its pulls beyond it are %d; its plans need %d: one per distinct child of a repairable backend held by no repo outside the docker.io side. Every other child is read from quay's side (or the cache) and only its existence is asked of Docker Hub, with a HEAD.\n",
			r.inspectPulls, r.repairPulls(), r.pullsNeeded)
	}
	b.WriteString("\n")
}
