package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// historySame is how much slower a run with tag history may be and still
// cost "about the same": its requests must be the same in number.
const historySame = 1.25

// morningTargets judges the morning-after goals.
func (m *measurement) morningTargets() []target {
	mr := m.morning
	if mr == nil {
		return nil
	}
	ir, rr := mr.inspect, mr.repair
	out := []target{
		{
			name:     fmt.Sprintf("morning-after inspect within 1.3x of its bound at %s", ms(ir.latency)),
			measured: fmt.Sprintf("%s vs bound %s (%d requests): %.2fx", secs(ir.wall), secs(ir.bound()), ir.total(), ir.ratio()),
			pass:     ir.ratio() <= 1.3,
		},
		{
			name:     fmt.Sprintf("repair --all within 1.5x of its bound at %s", ms(rr.latency)),
			measured: fmt.Sprintf("%s vs bound %s (%d requests): %.2fx", secs(rr.wall), secs(rr.bound()), rr.total(), rr.ratio()),
			pass:     rr.ratio() <= 1.5,
		},
		{
			name: "repair --all requests at most 1.2x the minimum a plan needs",
			measured: fmt.Sprintf("%d beyond its inspect vs minimum %d: %.2fx", rr.repairReqs(), rr.min.total(),
				float64(rr.repairReqs())/float64(rr.min.total())),
			pass: float64(rr.repairReqs()) <= 1.2*float64(rr.min.total()),
		},
		{
			name:     "repair --all heals every repairable backend",
			measured: fmt.Sprintf("%d repairable before, %d after; exit %d (%d unrepairable left)", ir.report.Summary.Repairable, rr.after.Repairable, rr.exit, rr.after.Unrepairable),
			pass:     rr.after.Repairable == 0 && (rr.exit == 1) == rr.after.Broken(),
		},
	}
	if tr := mr.throttledRepair; tr != nil {
		allowed := 3*rr.wall + time.Second
		out = append(out, target{
			name: fmt.Sprintf("repair --all under %.0f%% HTML 429s within 3x clean + 1 s, and heals the same", throttleRate*100),
			measured: fmt.Sprintf("%s vs %s clean: %.2fx (%d 429s; allowed %s); %d repairable after, exit %d", tr.wall.Round(time.Millisecond), rr.wall.Round(time.Millisecond),
				float64(tr.wall)/float64(rr.wall), tr.quay.Status(429)+tr.hub.Status(429), allowed.Round(time.Millisecond), tr.after.Repairable, tr.exit),
			pass: tr.wall <= allowed && tr.after == rr.after && tr.exit == rr.exit,
		})
	}
	for _, h := range []struct {
		what       string
		wall, hist float64
		reqs, hreq int
	}{
		{"inspect", float64(ir.wall), float64(mr.histInspect.wall), ir.total(), mr.histInspect.total()},
		{"repair --all", float64(rr.wall), float64(mr.histRepair.wall), rr.total(), mr.histRepair.total()},
	} {
		out = append(out, target{
			name: fmt.Sprintf("%s with %d older tags per target costs about the same", h.what, historyTags),
			measured: fmt.Sprintf("%d vs %d requests, %.3f s vs %.3f s (%.2fx)", h.hreq, h.reqs, h.hist/1e9, h.wall/1e9,
				h.hist/h.wall),
			pass: h.hreq == h.reqs && h.hist/h.wall <= historySame,
		})
	}
	peak := 0
	for _, r := range []*repairAllRun{rr, mr.histRepair} {
		peak = max(peak, r.quay.PeakInFlight(), r.hub.PeakInFlight())
	}
	out = append(out, target{
		name:     "peak in flight per registry within --concurrency during repair --all (at the proxy)",
		measured: fmt.Sprintf("peak %d at --concurrency %d", peak, rr.concurrency),
		pass:     peak <= rr.concurrency,
	})
	return out
}

// writeMorning writes the morning-after section.
func (m *measurement) writeMorning(b *strings.Builder) {
	mr := m.morning
	if mr == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	f, ir, rr := mr.f, mr.inspect, mr.repair
	w("\n## The morning after: repair --all of a LocalAI-size release\n\n")
	w("A second pair of registries (and proxies), seeded with the same matrix (%d backends, %d legs) but morning-after fates: %s, in %s. "+
		"Most release tags are absent. Measured at %s, --concurrency %d: an inspect (`remerge inspect`, as above), then "+
		"`remerge repair --all --yes --audit FILE` with its output to a pipe, then an inspect at no latency to see what is left. "+
		"Then both registries are restored to their seeded state (a checkpoint of their storage), each target is given %d older tags "+
		"(old releases and sha- tags of every backend, put straight into the registry), the registries list tags %d a page "+
		"(as quay.io does; listing quay's target took %d pages for %d tags), and the inspect and repair --all run again.\n\n",
		len(f.seeded.Backends), legCount(f), fates(f), secs(f.seedTime), ms(ir.latency), ir.concurrency,
		historyTags, mr.pageLen, mr.historyPages, mr.historyListed)
	w("| | inspect | repair --all | inspect, tag history | repair --all, tag history |\n|---|---:|---:|---:|---:|\n")
	hi, hr := mr.histInspect, mr.histRepair
	w("| wall time | %s | %s | %s | %s |\n", secs(ir.wall), secs(rr.wall), secs(hi.wall), secs(hr.wall))
	w("| requests, quay side | %d | %d | %d | %d |\n", ir.quay.Total(), rr.quay.Total(), hi.quay.Total(), hr.quay.Total())
	w("| requests, docker.io side | %d | %d | %d | %d |\n", ir.hub.Total(), rr.hub.Total(), hi.hub.Total(), hr.hub.Total())
	w("| tag listings | %d | %d | %d | %d |\n", ir.requests("GET", "tags"), rr.quay.Requests("GET", "tags")+rr.hub.Requests("GET", "tags"),
		hi.requests("GET", "tags"), hr.quay.Requests("GET", "tags")+hr.hub.Requests("GET", "tags"))
	w("| wall time at 0 ms (the same requests, no round trip to hide their cost) | %s | %s | | |\n", secs(mr.floorInspect.wall), secs(mr.floorRepair.wall))
	w("| CPU of remerge | %s | %s | %s | %s |\n", secs(ir.cpu), secs(rr.cpu), secs(hi.cpu), secs(hr.cpu))
	w("| CPU of the registries and proxies meanwhile | %s | %s | %s | %s |\n", secs(ir.serverCPU), secs(rr.serverCPU), secs(hi.serverCPU), secs(hr.serverCPU))
	w("| bound | %s | %s | %s | %s |\n", secs(ir.bound()), secs(rr.bound()), secs(hi.bound()), secs(hr.bound()))
	w("| ratio to bound | %.2fx | %.2fx | %.2fx | %.2fx |\n", ir.ratio(), rr.ratio(), hi.ratio(), hr.ratio())
	w("| requests in flight at the proxy, mean over the run, quay / docker.io | %s / %s | %s / %s | %s / %s | %s / %s |\n",
		occMean(ir.quay, ir.concurrency), occMean(ir.hub, ir.concurrency), occMean(rr.quay, rr.concurrency), occMean(rr.hub, rr.concurrency),
		occMean(hi.quay, hi.concurrency), occMean(hi.hub, hi.concurrency), occMean(hr.quay, hr.concurrency), occMean(hr.hub, hr.concurrency))
	w("| time in flight per request at the proxy, quay / docker.io (%s of it the added latency) | %s / %s | %s / %s | %s / %s | %s / %s |\n", ms(ir.latency),
		perRequest(ir.quay, ir.concurrency), perRequest(ir.hub, ir.concurrency), perRequest(rr.quay, rr.concurrency), perRequest(rr.hub, rr.concurrency),
		perRequest(hi.quay, hi.concurrency), perRequest(hi.hub, hi.concurrency), perRequest(hr.quay, hr.concurrency), perRequest(hr.hub, hr.concurrency))
	edge := func(started time.Time, wall time.Duration, q, h testreg.Stats) string {
		before, after := edges(started, wall, q, h)
		return msf(before) + " / " + msf(after)
	}
	w("| from start to the first request / from the last answer to exit | %s | %s | %s | %s |\n", edge(ir.started, ir.wall, ir.quay, ir.hub),
		edge(rr.started, rr.wall, rr.quay, rr.hub), edge(hi.started, hi.wall, hi.quay, hi.hub), edge(hr.started, hr.wall, hr.quay, hr.hub))
	w("| peak in flight, quay / docker.io | %d / %d | %d / %d | %d / %d | %d / %d |\n", ir.quay.PeakInFlight(), ir.hub.PeakInFlight(),
		rr.quay.PeakInFlight(), rr.hub.PeakInFlight(), hi.quay.PeakInFlight(), hi.hub.PeakInFlight(), hr.quay.PeakInFlight(), hr.hub.PeakInFlight())
	w("| verdicts before | %s | | %s | |\n", verdicts(ir.report), verdicts(hi.report))
	w("| left after repair --all | | %d repairable, %d unrepairable (exit %d) | | %d repairable, %d unrepairable (exit %d) |\n",
		rr.after.Repairable, rr.after.Unrepairable, rr.exit, hr.after.Repairable, hr.after.Unrepairable, hr.exit)
	w("\n%s\n", occupancyNote)

	mn := rr.min
	w("\nrepair --all's own requests, beyond the inspection it starts with (%d, as the stand-alone inspect of the same state sent), "+
		"against the minimum the plans and executions need:\n\n", rr.inspectReqs)
	w("| | requests |\n|---|---:|\n")
	w("| pairs (repairable backend x target) | %d, of which %d write |\n", mn.pairs, mn.writing)
	w("| legs: manifest and config GET, %d blob HEADs each | %d x %d = %d |\n", imageBlobs, mn.legs, 2+imageBlobs, mn.legs*(2+imageBlobs))
	w("| children the target lacks: one PUT each | %d |\n", mn.childPuts)
	w("| tags: one HEAD each when planning | %d |\n", mn.tags)
	w("| lists: one PUT per writing pair | %d |\n", mn.writing)
	w("| tags that move: HEAD before (the guard), PUT, HEAD after (read back) | %d x 3 = %d |\n", mn.moves, 3*mn.moves)
	w("| blob mounts and uploads sent (what the targets lacked) | %d |\n", mn.mounts)
	w("| pings, one per registry | %d |\n", mn.pings)
	w("| **minimum** | **%d** |\n", mn.total())
	w("| **sent** | **%d** (%.2fx) |\n", rr.repairReqs(), float64(rr.repairReqs())/float64(mn.total()))
	w("\nThe minimum counts what the report leaves unknown once (a child's bytes and platform, its blobs in the target), " +
		"every write once, and the two reads around each tag write that the design keeps as guards; what is sent beyond it is " +
		"the check that every child is in the target right before its list is written (one HEAD per child of a writing pair), " +
		"and a target's second ping or token, if any.\n")
}
