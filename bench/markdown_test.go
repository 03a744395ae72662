package bench

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// markdown renders results.md. Every figure comes from the measurement.
func (m *measurement) markdown() string {
	var b strings.Builder
	f := m.f
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# remerge benchmark results\n\n")
	w("Written by `make bench` (`go test ./bench -run '^TestResults$' -args -results bench/results.md`); every figure below is measured by that run. ")
	w("See [README.md](README.md) for what is measured and how.\n\n")
	w("- date: %s\n", m.started.UTC().Format("2006-01-02 15:04 MST"))
	w("- machine: %d cores (nproc), %s/%s; %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, m.goVer)
	w("- whole run (seeding, builds, every measurement): %s\n\n", secs(m.total))

	w("## Setup\n\n")
	w("- release: %s, run %s, sha %s; %d backends, %d legs, fates: %s\n", f.rel.Ref, f.rel.Run, f.rel.SHA[:7],
		len(f.seeded.Backends), legCount(f), fates(f))
	w("- two distribution/v3 registries in-process on 127.0.0.1: quay side (target `%s` and anchor `%s`) and docker.io side (target `%s`); "+
		"each behind a fault proxy that holds every request for the added latency and counts it by method and kind\n",
		"go-skynet/local-ai-backends", "go-skynet/ci-cache", "localai/localai-backends")
	w("- the benchmark process (registries and proxies) runs with GOGC=%d: distribution allocates a 4 MiB read buffer per blob GET, and collecting that "+
		"garbage at the default pace costs the registries CPU on the cores remerge is measured on; remerge runs with Go's defaults\n", serverGCPercent)
	w("- seeded straight into the registries in %s; the measured config names the proxies only\n", secs(f.seedTime))
	w("- measured: the real binary as a subprocess, `remerge inspect --config <proxied> --release %s --run %s --sha %s --format json --concurrency %d`; "+
		"wall time from start to exit; peak RSS is the child's VmHWM, read from /proc while it runs (its ru_maxrss would carry over this process's size across fork and exec)\n", f.rel.Ref, f.rel.Run, f.rel.SHA, concurrency)
	if len(m.inspect) > 0 {
		w("- what it found: %s\n", verdicts(m.inspect[0].report))
	}
	w("\n## Targets\n\n| target | measured | |\n|---|---|---|\n")
	for _, t := range m.targets() {
		w("| %s | %s | **%s** |\n", t.name, t.measured, t.verdict())
	}
	if m.pullsOnly {
		w("\n")
		m.writePulls(&b)
		return b.String()
	}
	m.writeMisses(&b)
	for _, ir := range m.inspect {
		m.writeInspect(&b, ir)
	}
	m.writeCrane(&b)
	m.writeSensitivity(&b)
	m.writeRemerge(&b)
	m.writeThrottle(&b)
	m.writeLimits(&b)
	m.writeMorning(&b)
	m.writePulls(&b)
	return b.String()
}

func (m *measurement) writeInspect(b *strings.Builder, ir *inspectRun) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	bg := budgetOf(ir)
	heads, gets := ir.requests("HEAD", testreg.KindManifest), ir.requests("GET", testreg.KindManifest)
	w("\n## Full inspect at %s added latency, --concurrency %d\n\n", ms(ir.latency), ir.concurrency)
	w("| | quay side | docker.io side | total |\n|---|---:|---:|---:|\n")
	row := func(name, method string, kind testreg.Kind) {
		w("| %s | %d | %d | %d |\n", name, ir.quay.Requests(method, kind), ir.hub.Requests(method, kind), ir.requests(method, kind))
	}
	row("manifest HEAD", "HEAD", testreg.KindManifest)
	row("manifest GET", "GET", testreg.KindManifest)
	row("tag listings", "", testreg.KindTags)
	row("token fetches", "", testreg.KindToken)
	row("pings (`/v2/`)", "", testreg.KindPing)
	row("blob requests", "", testreg.KindBlob)
	other := ir.total() - heads - gets
	for _, k := range []testreg.Kind{testreg.KindTags, testreg.KindToken, testreg.KindPing, testreg.KindBlob} {
		other -= ir.requests("", k)
	}
	w("| anything else | | | %d |\n", other)
	w("| **all requests** | %d | %d | **%d** |\n", ir.quay.Total(), ir.hub.Total(), ir.total())
	w("| answered 404 | %d | %d | %d |\n\n", ir.quay.Status(404), ir.hub.Status(404), ir.quay.Status(404)+ir.hub.Status(404))
	w("| | value |\n|---|---|\n")
	w("| wall time | %s |\n", secs(ir.wall))
	w("| peak RSS | %.1f MB |\n", mib(ir.rssKiB))
	w("| CPU time of remerge (user + system) | %s |\n", secs(ir.cpu))
	w("| CPU time of the registries and proxies (the bench process) meanwhile | %s |\n", secs(ir.serverCPU))
	w("| budget | %d (digest, repo) + %d (target, tag) + %d tokens + %d tags read elsewhere + %d anchors HEADed + %d learning + %d provenance + %d signatures + %d repo checks = **%d** |\n", bg.digestRepo, bg.targetTag, bg.tokens, bg.elsewhere, bg.anchors, bg.learning, bg.provenance, bg.signatures, bg.repoChecks, bg.total())
	w("| sent | **%d** (%d%% of budget) |\n", ir.total(), percent(ir.total(), bg.total()))
	w("| manifest HEADs + GETs vs (digest, repo) + (target, tag) pairs | %d + %d = %d vs %d + %d = %d (on the docker.io side, which counts pulls as Docker Hub does, every tag is HEADed and bytes are read on quay; on quay, which counts none, a release tag is one GET and the sha and latest tags, which most often name the same list, are HEADed) |\n",
		heads, gets, heads+gets, bg.digestRepo, bg.targetTag, bg.digestRepo+bg.targetTag)
	if ir.latency > 0 {
		w("| bound | max(ceil(%d / %d), ceil(%d / %d)) x %s = %s |\n", ir.quay.Total(), ir.concurrency, ir.hub.Total(), ir.concurrency, ms(ir.latency), secs(ir.bound()))
		w("| ratio to bound | %.2fx |\n", ir.ratio())
		w("| requests in flight at the proxy, mean over the run, quay / docker.io | %s / %s |\n", occMean(ir.quay, ir.concurrency), occMean(ir.hub, ir.concurrency))
		w("| time in flight per request at the proxy, quay / docker.io (%s of it the added latency) | %s / %s |\n", ms(ir.latency), perRequest(ir.quay, ir.concurrency), perRequest(ir.hub, ir.concurrency))
		before, after := edges(ir.started, ir.wall, ir.quay, ir.hub)
		w("| from start to the first request / from the last answer to exit | %s / %s |\n", msf(before), msf(after))
	} else {
		w("| bound | none at 0 ms (every request costs only loopback time) |\n")
	}
	w("\nBound: each registry takes at most %d requests at a time (remerge's per-registry limit) and every request is held for the added latency, "+
		"so a registry that saw n requests needs at least ceil(n / %d) latency rounds; the two registries run side by side, so the bound is the larger "+
		"of the two. The sum over both limits (ceil(total / %d)) would be lower and flatter the ratio, because the quay side carries the anchor too.\n",
		ir.concurrency, ir.concurrency, 2*ir.concurrency)
	if ir.latency > 0 {
		w("\n%s\n", occupancyNote)
	}
}

// occupancyNote says what the two occupancy rows show.
const occupancyNote = "Where the time beyond the bound goes, measured at the proxies: a request is in flight from its arrival at the proxy to the last byte of its answer. " +
	"The mean in flight against the limit is how full remerge keeps its slots (the rest is the ramp, the tail and the turnaround between one answer and the next request); " +
	"the time in flight per request beyond the added latency is the serving itself: the proxy's forwarding and the registry's handling, which here run on the same cores as remerge."

// msf is d in milliseconds with one decimal.
func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// occMean is a server's mean in flight over its busy span, against limit.
func occMean(st testreg.Stats, limit int) string {
	o := st.Occupancy(limit)
	return fmt.Sprintf("%.1f of %d", o.Mean, limit)
}

// perRequest is a server's mean time in flight per request.
func perRequest(st testreg.Stats, limit int) string {
	o := st.Occupancy(limit)
	return msf(o.PerRequest)
}

func (m *measurement) writeCrane(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("\n## The crane loop\n\n")
	w("The probing done the way a maintainer would by hand, one crane process after another, crane built from "+
		"`github.com/google/go-containerregistry/cmd/crane` at the version in go.mod. The issue's loop is `crane digest --insecure <repo>@<digest>` "+
		"(a manifest HEAD) per (digest, repo) pair; it resolves no tags, so it does less than inspect. The tag loop, `crane manifest --insecure <repo>:<tag>` "+
		"(a GET) per (target, tag), is the other half of the same work, shown for reference. Each loop times %d invocations spread evenly over "+
		"all of its items (present and absent, both registries) and extrapolates the mean to every item.\n\n", craneSample)
	w("| latency | loop | sample | found / absent | sample wall | per call | requests per call | items | extrapolated |\n")
	w("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i := range m.crane {
		for _, cr := range []*craneRun{m.crane[i], m.craneTags[i]} {
			w("| %s | `crane %s` | %d | %d / %d | %s | %.1f ms | %.1f (%s) | %d | %s |\n", ms(cr.latency), cr.verb, cr.sample, cr.present, cr.missing,
				secs(cr.wall), float64(cr.perCall().Microseconds())/1000, cr.requestsPerCall(), craneKinds(cr), cr.items, secs(cr.extrapolated()))
		}
	}
	w("\n| latency | remerge inspect | issue's loop (digests) | speed-up | digests + tags loops | speed-up |\n|---:|---:|---:|---:|---:|---:|\n")
	for i, cr := range m.crane {
		ir, ct := m.inspect[i], m.craneTags[i]
		both := cr.extrapolated() + ct.extrapolated()
		w("| %s | %s | %s | **%.1fx** | %s | %.1fx |\n", ms(cr.latency), secs(ir.wall), secs(cr.extrapolated()),
			float64(cr.extrapolated())/float64(ir.wall), secs(both), float64(both)/float64(ir.wall))
	}
}

// writeMisses explains a missed crane target from the measured figures:
// how far the bound of inspect's own requests lets it get at all.
func (m *measurement) writeMisses(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	for i, cr := range m.crane {
		ir := m.inspect[i]
		speed := float64(cr.extrapolated()) / float64(ir.wall)
		if speed >= 50 {
			continue
		}
		if ir.latency == 0 {
			w("\nWhy the crane target is missed at 0 ms: with no latency there is no round-trip time for concurrency to hide, so both sides are "+
				"fixed costs. A crane call costs %.1f ms, mostly process start; inspect's %s is the CPU and scheduling cost of %d loopback requests: "+
				"remerge used %s of CPU and the registries and proxies serving it (the benchmark process) %s, %.0f%% of the %d cores, which other "+
				"work on the machine may share. This row compares process start with in-process request handling, not network behaviour.\n",
				float64(cr.perCall().Microseconds())/1000, secs(ir.wall), ir.total(), secs(ir.cpu), secs(ir.serverCPU),
				100*float64(ir.cpu+ir.serverCPU)/float64(ir.wall)/float64(runtime.NumCPU()), runtime.NumCPU())
			continue
		}
		ceiling := float64(cr.extrapolated()) / float64(ir.bound())
		need := cr.extrapolated() / 50
		rounds := int(need / ir.latency)
		limit := 0
		if rounds > 0 {
			limit = ceilDiv(max(ir.quay.Total(), ir.hub.Total()), rounds)
		}
		w("\nWhy the crane target is missed at %s: the loop costs %.1f ms per pair (%.1f requests, one process each) over %d pairs, %s; "+
			"inspect's own %d requests at --concurrency %d cannot finish before their bound of %s, so even at ratio 1.0 the speed-up is at most %.1fx. "+
			"50x needs a bound of %s or less, that is a per-registry limit of at least %d for the busier registry's %d requests "+
			"(see the Sensitivity section), or fewer requests than the budget allows. %s\n",
			ms(ir.latency), float64(cr.perCall().Microseconds())/1000, cr.requestsPerCall(), cr.items, secs(cr.extrapolated()),
			ir.total(), ir.concurrency, secs(ir.bound()), ceiling, secs(need), limit, max(ir.quay.Total(), ir.hub.Total()), withinText(ir))
	}
}

// withinText says how the run's requests stand against their budget.
func withinText(ir *inspectRun) string {
	if bg := budgetOf(ir); ir.total() > bg.total() {
		return fmt.Sprintf("The request count is %d over its budget of %d (see the full inspect's table below).", ir.total()-bg.total(), bg.total())
	}
	return "The request count is not the problem: it is within budget."
}

// writeSensitivity shows what a higher per-registry limit buys at the same
// latency: not a target, an answer to "what would 50x take".
func (m *measurement) writeSensitivity(b *strings.Builder) {
	if len(m.wide) == 0 || len(m.crane) == 0 {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	cr := m.crane[len(m.crane)-1]
	w("\n## Sensitivity: the per-registry limit\n\n")
	w("Not a target: the same inspect with a higher `--concurrency`, against the same crane loop (%s). "+
		"With the limit fixed, the speed-up over the loop cannot exceed (loop time) / (bound), whatever the engine does.\n\n", ms(cr.latency))
	w("| latency | --concurrency | requests | wall | bound | ratio | peak RSS | speed-up over the crane loop | ceiling at ratio 1.0 |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	rows := append([]*inspectRun{m.inspect[len(m.inspect)-1]}, m.wide...)
	for _, ir := range rows {
		w("| %s | %d | %d | %s | %s | %.2fx | %.1f MB | %.1fx | %.1fx |\n", ms(ir.latency), ir.concurrency, ir.total(), secs(ir.wall),
			secs(ir.bound()), ir.ratio(), mib(ir.rssKiB), float64(cr.extrapolated())/float64(ir.wall), float64(cr.extrapolated())/float64(ir.bound()))
	}
}

// craneKinds names what the loop's requests were, per call.
func craneKinds(cr *craneRun) string {
	var parts []string
	for _, k := range []struct {
		name, method string
		kind         testreg.Kind
	}{{"ping", "", testreg.KindPing}, {"HEAD", "HEAD", testreg.KindManifest}, {"GET", "GET", testreg.KindManifest}, {"token", "", testreg.KindToken}} {
		if n := cr.requests(k.method, k.kind); n > 0 {
			parts = append(parts, fmt.Sprintf("%.1f %s", float64(n)/float64(cr.sample), k.name))
		}
	}
	return strings.Join(parts, ", ")
}

func (m *measurement) writeRemerge(b *strings.Builder) {
	rr := m.remerge
	if rr == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("\n## Re-merge of one same-registry backend\n\n")
	w("Backend `%s` (multi-arch, fate reaped): both children were reaped from quay's target and live on in the anchor repo on the same registry. "+
		"Inspected alone, then planned and executed into target `quay` with the repair library (`repair.NewPlan`, `repair.Execute`) and one shared client, "+
		"at %s added latency; counted at the proxies, each phase apart. Legs planned as: %s.\n\n", rr.suffix, ms(rr.latency), kindsText(rr))
	w("| phase | wall | quay side | docker.io side | by kind |\n|---|---:|---:|---:|---|\n")
	w("| inspect (one backend) | %s | | | %d requests |\n", secs(rr.inspect), rr.inspectReqs)
	w("| plan | %s | %d | %d | %s |\n", secs(rr.planWall), rr.planQuay.Total(), rr.planHub.Total(), kindText(rr.planQuay, rr.planHub))
	w("| execute | %s | %d | %d | %s |\n\n", secs(rr.execWall), rr.execQuay.Total(), rr.execHub.Total(), kindText(rr.execQuay, rr.execHub))
	res := rr.result
	w("| | value |\n|---|---|\n")
	w("| outcome | %s |\n", res.Outcome)
	w("| blobs mounted / copied | %d / %d |\n", len(res.Mounted), len(res.Copied))
	w("| blob bytes uploaded (config and layers, at the proxies) | **%d** |\n", rr.layerBytes())
	w("| manifest bytes put (children and list) | %d |\n", rr.manifestBytes())
	w("| all request bytes sent by the client | %d |\n", rr.execQuay.UploadBytes()+rr.execHub.UploadBytes())
	w("| tags moved | %s |\n", strings.Join(res.TagsMoved, ", "))
	w("| release tag now names | `%s` (what buildx writes: `%s`) |\n", rr.listDigest, rr.wantDigest)
}

func kindsText(rr *remergeRun) string {
	parts := make([]string, len(rr.legKinds))
	for i, k := range rr.legKinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

// kindText lists "METHOD kind: n" for the requests of both sides.
func kindText(a, c testreg.Stats) string {
	counts := map[string]int{}
	for _, s := range []testreg.Stats{a, c} {
		for _, method := range []string{"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"} {
			for _, k := range []testreg.Kind{testreg.KindPing, testreg.KindToken, testreg.KindTags, testreg.KindManifest, testreg.KindBlob, testreg.KindUpload, testreg.KindCatalog, testreg.KindOther} {
				if n := s.Requests(method, k); n > 0 {
					counts[method+" "+string(k)] += n
				}
			}
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

func legCount(f *fixture) int {
	n := 0
	for _, b := range f.seeded.Backends {
		n += len(b.Platforms())
	}
	return n
}

// fates counts the seeded backends per fate, in a stable order.
func fates(f *fixture) string {
	counts := map[string]int{}
	for _, b := range f.seeded.Backends {
		counts[string(b.Fate)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

func percent(a, b int) int {
	if b == 0 {
		return 0
	}
	return a * 100 / b
}
