package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// resultsFlag turns TestResults on. `make bench` passes it; plain `go test`
// leaves it empty and the test skips at once.
var resultsFlag = flag.String("results", "",
	"run the full benchmark and write its markdown report here (relative to the module root); env REMERGE_BENCH_RESULTS does the same")

// onlyFlag narrows TestResults to some measurements: "pulls" runs only
// the Docker Hub pull counts (three inspects, and the morning-after
// inspect and repair --all at 20 ms) and writes only their section.
var onlyFlag = flag.String("only", "", `with -results, run only these measurements ("pulls")`)

// latencies are the added per-request latencies measured.
var latencies = []time.Duration{0, 20 * time.Millisecond}

// wideConcurrency is the higher per-registry limit of the sensitivity run.
var wideConcurrency = []int{32, 64}

// measurement is everything results.md reports.
type measurement struct {
	started time.Time
	goVer   string
	f       *fixture
	inspect []*inspectRun
	crane   []*craneRun
	// craneTags are the tag loops (crane manifest), one per latency.
	craneTags []*craneRun
	// wide are inspects at the last latency with wideConcurrency limits.
	wide    []*inspectRun
	remerge *remergeRun
	// throttle is the inspect and re-merge again with quay.io-style
	// throttling on both proxies.
	throttle *throttleRun
	// limits is the inspect again behind quay's token bucket and behind
	// Docker Hub's spent pull quota.
	limits *limitsRun
	// morning is the morning-after release: inspect and repair --all,
	// without and with tag history.
	morning *morningRun
	// pulls is the inspect with and without a warm cache, counting
	// Docker Hub's pulls.
	pulls *pullsRun
	// pullsOnly: only the pull counts were measured (-only pulls).
	pullsOnly bool
	total     time.Duration
}

// TestResults runs the whole measurement once and writes results.md. It
// fails only when the measurement cannot be made; a missed target is
// written down as MISS and logged, not hidden and not a test failure.
func TestResults(t *testing.T) {
	path := *resultsFlag
	if path == "" {
		path = os.Getenv("REMERGE_BENCH_RESULTS")
	}
	if path == "" {
		t.Skip("benchmark not requested: pass -results FILE (make bench) or set REMERGE_BENCH_RESULTS")
	}
	if !filepath.IsAbs(path) {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, path)
	}
	ctx := context.Background()
	m, err := measure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	md := m.markdown()
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatalf("writing results: %v", err)
	}
	for _, tg := range m.targets() {
		t.Logf("%-4s %s: %s", tg.verdict(), tg.name, tg.measured)
	}
	t.Logf("wrote %s", path)
}

// serverGCPercent is the GOGC of the benchmark process (the registries and
// proxies), not of remerge.
const serverGCPercent = 400

// measure seeds the release and runs every measurement: inspect and the
// crane loop at each latency, then the re-merge (last: it changes quay).
func measure(ctx context.Context, logf func(string, ...any)) (*measurement, error) {
	m := &measurement{started: time.Now(), goVer: goVersion(ctx)}
	// The registries run in this process, on the cores remerge is measured
	// on; distribution allocates a 4 MiB read buffer per blob GET, and
	// collecting that garbage at the default pace cost the registries
	// over a quarter more CPU (3.5 s against 2.5 s per morning-after
	// inspect, measured side by side). Real registries run elsewhere.
	defer debug.SetGCPercent(debug.SetGCPercent(serverGCPercent))
	f, err := newFixture(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := f.Close(); err != nil {
			logf("closing fixture: %v", err)
		}
	}()
	m.f = f
	logf("seeded %d backends in %s", len(f.seeded.Backends), f.seedTime.Round(time.Millisecond))
	if m.pulls, err = f.runPulls(ctx, logf); err != nil {
		return nil, err
	}
	if *onlyFlag == "pulls" {
		m.pullsOnly = true
		if m.morning, err = measureMorning(ctx, f, true, logf); err != nil {
			return nil, err
		}
		m.total = time.Since(m.started)
		return m, nil
	}
	for _, d := range latencies {
		ir, err := f.runInspect(ctx, d, concurrency)
		if err != nil {
			return nil, fmt.Errorf("inspect at %s: %w", d, err)
		}
		logf("inspect at %s: %s, %d requests, bound %s, peak RSS %.1f MB", d, ir.wall.Round(time.Millisecond),
			ir.total(), ir.bound(), mib(ir.rssKiB))
		m.inspect = append(m.inspect, ir)
		cr, err := f.runCrane(ctx, d, "digest", digestRefs(digestRepoPairs(ir.report)))
		if err != nil {
			return nil, fmt.Errorf("crane loop at %s: %w", d, err)
		}
		ct, err := f.runCrane(ctx, d, "manifest", tagRefs(ir.report))
		if err != nil {
			return nil, fmt.Errorf("crane tag loop at %s: %w", d, err)
		}
		for _, c := range []*craneRun{cr, ct} {
			logf("crane %s loop at %s: %d calls in %s, extrapolated %s over %d", c.verb, d, c.sample,
				c.wall.Round(time.Millisecond), c.extrapolated().Round(time.Millisecond), c.items)
		}
		m.crane = append(m.crane, cr)
		m.craneTags = append(m.craneTags, ct)
	}
	last := latencies[len(latencies)-1]
	for _, c := range wideConcurrency {
		ir, err := f.runInspect(ctx, last, c)
		if err != nil {
			return nil, fmt.Errorf("inspect at %s, concurrency %d: %w", last, c, err)
		}
		logf("inspect at %s, concurrency %d: %s, bound %s", last, c, ir.wall.Round(time.Millisecond), ir.bound())
		m.wide = append(m.wide, ir)
	}
	// Throttled inspect before any re-merge: it must find what the clean
	// inspect at the same latency found.
	tr, err := f.runThrottled(ctx, m.inspect[len(m.inspect)-1], logf)
	if err != nil {
		return nil, err
	}
	m.throttle = tr
	if m.limits, err = f.runLimits(ctx, m.inspect[len(m.inspect)-1], logf); err != nil {
		return nil, err
	}
	rr, err := f.runRemerge(ctx, last, 0)
	if err != nil {
		return nil, fmt.Errorf("re-merge: %w", err)
	}
	m.remerge = rr
	// The same shape of re-merge on another reaped backend, throttled.
	if tr.remerge, err = f.runRemerge(ctx, last, 1, testreg.QuayThrottle(throttleRate)); err != nil {
		return nil, fmt.Errorf("throttled re-merge: %w", err)
	}
	logf("re-merge at %s: %s clean, %s throttled (%d 429s)", last, rr.wall().Round(time.Millisecond),
		tr.remerge.wall().Round(time.Millisecond), tr.remerge.throttled)
	if m.morning, err = measureMorning(ctx, f, false, logf); err != nil {
		return nil, err
	}
	m.total = time.Since(m.started)
	return m, nil
}

// mib converts KiB (VmHWM) to MB of 2^20 bytes.
func mib(kib int64) float64 { return float64(kib) / 1024 }

// target is one goal of the issue with its measured figure.
type target struct {
	name     string
	measured string
	pass     bool
}

func (t target) verdict() string {
	if t.pass {
		return "PASS"
	}
	return "MISS"
}

// maxRSSMB is the memory target.
const maxRSSMB = 100

// targets judges every goal of the issue from the measurement.
func (m *measurement) targets() []target {
	var out []target
	for i, ir := range m.inspect {
		lat := ms(ir.latency)
		if ir.latency > 0 {
			out = append(out, target{
				name:     fmt.Sprintf("wall within 1.5x of the bound at %s", lat),
				measured: fmt.Sprintf("%s vs bound %s: %.2fx", secs(ir.wall), secs(ir.bound()), ir.ratio()),
				pass:     ir.ratio() <= 1.5,
			})
		}
		cr := m.crane[i]
		speed := float64(cr.extrapolated()) / float64(ir.wall)
		out = append(out, target{
			name:     fmt.Sprintf("at least 50x faster than the crane loop at %s", lat),
			measured: fmt.Sprintf("%s vs %s extrapolated: %.1fx", secs(ir.wall), secs(cr.extrapolated()), speed),
			pass:     speed >= 50,
		})
		b := budgetOf(ir)
		out = append(out, target{
			name:     fmt.Sprintf("requests within budget at %s", lat),
			measured: fmt.Sprintf("%d sent vs budget %d", ir.total(), b.total()),
			pass:     ir.total() <= b.total(),
		})
		out = append(out, target{
			name:     fmt.Sprintf("peak RSS under %d MB at %s", maxRSSMB, lat),
			measured: fmt.Sprintf("%.1f MB", mib(ir.rssKiB)),
			pass:     ir.rssKiB > 0 && mib(ir.rssKiB) < maxRSSMB,
		})
	}
	if m.pullsOnly {
		return m.pullTargets()
	}
	out = append(out, m.throttleTargets()...)
	out = append(out, m.limitsTargets()...)
	out = append(out, m.morningTargets()...)
	out = append(out, m.pullTargets()...)
	if rr := m.remerge; rr != nil {
		out = append(out, target{
			name:     "re-merge of a same-registry backend moves no layer bytes",
			measured: fmt.Sprintf("%d blob bytes uploaded, %d blobs copied", rr.layerBytes(), len(rr.result.Copied)),
			pass:     rr.layerBytes() == 0 && len(rr.result.Copied) == 0,
		})
		out = append(out, target{
			name:     "re-merged list is the one buildx would write",
			measured: fmt.Sprintf("tag resolves to %s, expected %s", short(rr.listDigest), short(rr.wantDigest)),
			pass:     rr.listDigest != "" && rr.listDigest == rr.wantDigest,
		})
	}
	return out
}

// ms prints a latency as the issue does: "20 ms".
func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// secs prints a wall time in seconds with millisecond precision.
func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// short is a digest cut to 12 hex digits for tables.
func short(d string) string {
	const n = len("sha256:") + 12
	if len(d) > n {
		return d[:n]
	}
	return d
}
