package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// inspectRun is one full inspect of the release by the remerge binary,
// measured from the outside.
type inspectRun struct {
	latency time.Duration
	// concurrency is the per-registry limit given with --concurrency.
	concurrency int
	wall        time.Duration
	// started is when the child was started.
	started time.Time
	// rssKiB is the child's peak resident set (VmHWM read while it runs; KiB on
	// Linux).
	rssKiB int64
	// cpu is the child's user plus system CPU time; serverCPU is the bench
	// process's over the same span: the registries and proxies serving it.
	cpu, serverCPU time.Duration
	// quay and hub are the requests each proxy saw during the run.
	quay, hub testreg.Stats
	report    *release.Report
	// stderr is what the run said there.
	stderr string
}

// runInspect runs `remerge inspect --format json --concurrency conc` over
// the whole release with the proxies at latency d. Exit 1 (something broken) is expected: the
// release has reaped and lost backends.
//
// faults are installed on both proxies for the run (after the counters are
// zeroed) and removed after it.
func (f *fixture) runInspect(ctx context.Context, d time.Duration, conc int, faults ...testreg.Fault) (*inspectRun, error) {
	cache, err := f.freshCache()
	if err != nil {
		return nil, err
	}
	return f.runInspectCached(ctx, d, conc, cache, faults...)
}

// runInspectCached is runInspect with the binary's disk cache in cache
// (REMERGE_CACHE_DIR): empty for a first run, or what an earlier run kept;
// "" runs it with --no-cache.
func (f *fixture) runInspectCached(ctx context.Context, d time.Duration, conc int, cache string, faults ...testreg.Fault) (*inspectRun, error) {
	f.setLatency(d, faults...)
	defer f.clearFaults()
	rel := f.release()
	args := []string{"inspect", "--config", f.cfgPath, "--release", rel.Ref, "--run", rel.Run, "--sha", rel.SHA,
		"--format", "json", "--concurrency", strconv.Itoa(conc)}
	if cache == "" {
		args = append(args, "--no-cache")
	}
	cmd := exec.CommandContext(ctx, f.remerge, args...)
	cmd.Dir = f.dir
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+f.dockerConfig, cas.DirEnv+"="+cache)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	self0 := selfCPU()
	start := time.Now()
	hwm, err := runWatched(cmd)
	wall := time.Since(start)
	served := selfCPU() - self0
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return nil, fmt.Errorf("remerge inspect: %w\n%s", err, stderr.Bytes())
	}
	r := &inspectRun{latency: d, concurrency: conc, wall: wall, started: start, serverCPU: served, quay: f.quayProxy.Stats(), hub: f.hubProxy.Stats(),
		stderr: stderr.String()}
	r.rssKiB = hwm
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	r.report = &release.Report{}
	if err := json.Unmarshal(stdout.Bytes(), r.report); err != nil {
		return nil, fmt.Errorf("decoding inspect JSON (%d bytes): %w\nstderr: %s", stdout.Len(), err, stderr.Bytes())
	}
	if len(r.report.Backends) != len(f.seeded.Backends) {
		return nil, fmt.Errorf("inspect reported %d backends, seeded %d", len(r.report.Backends), len(f.seeded.Backends))
	}
	return r, nil
}

// edges is the time from a run's start to its first request at either
// proxy, and from the last answer to the run's exit: what the process does
// before it probes (start-up, reading the config and matrix) and after
// (judging, writing the report).
func edges(started time.Time, wall time.Duration, quay, hub testreg.Stats) (before, after time.Duration) {
	q, h := quay.Occupancy(1), hub.Occupancy(1)
	first, last := q.Start, q.End
	if first.IsZero() || (!h.Start.IsZero() && h.Start.Before(first)) {
		first = h.Start
	}
	if h.End.After(last) {
		last = h.End
	}
	if first.IsZero() {
		return 0, 0
	}
	return first.Sub(started), started.Add(wall).Sub(last)
}

// runWatched runs cmd and returns its peak resident set in KiB, the
// VmHWM of /proc/<pid>/status read every 5 ms while it runs (the last
// read before it exits). getrusage's ru_maxrss cannot tell: Linux carries
// the parent's high-water mark over into a child across fork and exec, so
// every child of this benchmark, whose registries hold the release in
// memory, would report the benchmark's own size.
func runWatched(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var (
		hwm  atomic.Int64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
						if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n > hwm.Load() {
							hwm.Store(n)
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	err := cmd.Wait()
	close(done)
	wg.Wait()
	return hwm.Load(), err
}

// selfCPU is this process's user plus system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// requests counts the run's requests of a method and kind at both proxies.
func (r *inspectRun) requests(method string, kind testreg.Kind) int {
	return r.quay.Requests(method, kind) + r.hub.Requests(method, kind)
}

// pulls is what Docker Hub would count: the manifest GETs at the docker.io
// side (HEADs and blob GETs are free).
func (r *inspectRun) pulls() int { return r.hub.Requests("GET", testreg.KindManifest) }

// total is every request the run sent.
func (r *inspectRun) total() int { return r.quay.Total() + r.hub.Total() }

// bound is the least wall time the run's requests allow: each registry
// serves at most r.concurrency requests at once and every request costs at
// least the added latency, so a registry that saw n requests needs at least
// ceil(n / concurrency) rounds of it. The registries run side by side, so
// the bound is the larger of the two; splitting the sum over both limits
// would understate it, because the quay side (anchor and target) carries
// more than half of the work.
func (r *inspectRun) bound() time.Duration {
	return boundOf([]int{r.quay.Total(), r.hub.Total()}, r.concurrency, r.latency)
}

// boundOf is max over registries of ceil(requests / limit) x latency.
func boundOf(perRegistry []int, limit int, latency time.Duration) time.Duration {
	rounds := 0
	for _, n := range perRegistry {
		rounds = max(rounds, ceilDiv(n, limit))
	}
	return time.Duration(rounds) * latency
}

// ratio is wall time over the bound; 0 when there is no bound (no latency).
func (r *inspectRun) ratio() float64 {
	b := r.bound()
	if b <= 0 {
		return 0
	}
	return float64(r.wall) / float64(b)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// budget is what a full inspect needs to send, from what the run
// reported. Where a registry counts pulls (its answers state a pull
// budget: the report's registries), a tag is
// HEADed first and its bytes read where reading is free; where it counts
// none, a tag whose bytes are wanted anyway (a release tag; any tag when
// the release tag is absent; a keepalive tag) is read with one GET, which
// answers what a HEAD would. Targets are never listed beyond one tag per
// repo, the check that tells a mistyped repo from a reaped release. Pings
// and a listing of the anchor repo's runs (none when --run is given) are
// not in the formula; they count against the total.
type budget struct {
	digestRepo int // one HEAD per distinct (digest, repo) pair
	targetTag  int // one request per (target, tag) probed: its HEAD, or its one GET
	tokens     int // token fetches seen
	// elsewhere is one read of bytes per HEADed tag naming other bytes
	// than its release tag (a tag is HEADed on a registry that counts
	// pulls, or when its release tag was read).
	elsewhere int
	// anchors is one more request per anchored leg whose anchor repo
	// counts pulls: its keepalive tag is HEADed before its bytes are read.
	anchors int
	// learning is one per registry that counts no pulls: until it has
	// answered a manifest nothing says so, and its first tag read HEADs
	// first (then GETs by digest).
	learning   int
	provenance int // 2 per distinct image of other digests: its child manifest and config
	signatures int // 2 per distinct (target, digest) whose signature is looked up, +1 per registry
	repoChecks int // one tags/list?n=1 per repo (anchor, targets, sources) before anything is judged
}

func (b budget) total() int {
	return b.digestRepo + b.targetTag + b.tokens + b.elsewhere + b.anchors + b.learning + b.provenance + b.signatures + b.repoChecks
}

// budgetOf derives the budget from what the run reported: every leg digest
// in every repo, the children of a release tag in its target (probed when
// they are not the expected ones), and every tag of every target.
func budgetOf(r *inspectRun) budget {
	pairs := digestRepoPairs(r.report)
	b := budget{digestRepo: len(pairs), tokens: r.requests("", testreg.KindToken)}
	counts := func(repo string) bool { return countsPulls(r.report, repo) }
	hosts := map[string]bool{}
	for _, repo := range r.report.Repos {
		if !counts(repo.Repo) {
			hosts[hostOf(repo.Repo)] = true
		}
		if repo.Role == release.RoleAnchor && counts(repo.Repo) {
			b.anchors = anchoredLegs(r.report)
		}
	}
	b.learning = len(hosts)
	b.repoChecks = len(r.report.Repos)
	prov, sigs := map[string]bool{}, map[pair]bool{}
	for _, be := range r.report.Backends {
		for _, t := range be.Targets {
			b.targetTag += len(t.Tags)
			relDigest := ""
			for _, st := range t.Tags {
				if st.Role == release.RoleRelease || st.Role == release.RoleBranch {
					relDigest = st.Digest
				}
			}
			headed := counts(t.Repo) || relDigest != ""
			for _, st := range t.Tags {
				if headed && st.Role != release.RoleRelease && st.Role != release.RoleBranch && st.Digest != "" && st.Digest != relDigest {
					b.elsewhere++
				}
				if st.Provenance != nil {
					prov[st.Digest] = true
				}
				if st.Signature != nil {
					sigs[pair{t.Repo, st.Digest}] = true
					for d := range st.Signature.Children {
						sigs[pair{t.Repo, d}] = true
					}
				}
			}
		}
	}
	b.provenance, b.signatures = 2*len(prov), 2*len(sigs)
	if len(sigs) > 0 {
		b.signatures += 2 // one referrers API probe per registry, remembered
	}
	return b
}

// countsPulls says whether repo's registry counts pulls: it stated a pull
// budget (the report's registries), as Docker Hub does on every manifest
// answer and the docker.io side does here.
func countsPulls(rep *release.Report, repo string) bool {
	_, ok := rep.Registries[hostOf(repo)]
	return ok
}

// hostOf is the registry host of a repo as a config writes it.
func hostOf(repo string) string {
	host, _, _ := strings.Cut(repo, "/")
	return host
}

// anchoredLegs counts the legs whose digest came from a keepalive anchor.
func anchoredLegs(rep *release.Report) int {
	n := 0
	for _, be := range rep.Backends {
		for _, l := range be.Legs {
			if l.DigestFrom == release.FromAnchor {
				n++
			}
		}
	}
	return n
}

// pair is one (repo, digest) a HEAD answers.
type pair struct{ repo, digest string }

// digestRepoPairs lists the distinct (repo, digest) pairs of a report, leg
// digests first in report order (the crane loop samples from it).
func digestRepoPairs(rep *release.Report) []pair {
	seen := map[pair]bool{}
	var out []pair
	add := func(p pair) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, be := range rep.Backends {
		for _, l := range be.Legs {
			if l.Digest == "" {
				continue
			}
			for _, repo := range rep.Repos {
				add(pair{repo.Repo, l.Digest})
			}
		}
	}
	for _, be := range rep.Backends {
		for _, t := range be.Targets {
			for _, ts := range t.Tags {
				if ts.Role == release.RoleRelease || ts.Role == release.RoleBranch {
					for _, c := range ts.Children {
						add(pair{t.Repo, c})
					}
				}
			}
		}
	}
	return out
}

// verdicts summarises the report for the results file.
func verdicts(rep *release.Report) string {
	s := rep.Summary
	return fmt.Sprintf("%d ok, %d repairable, %d unrepairable, %d conflict, %d unknown",
		s.OK, s.Repairable, s.Unrepairable, s.Conflict, s.Unknown)
}
