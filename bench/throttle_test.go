package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// throttleRate is the fraction of requests both proxies answer as quay.io
// throttles: 429, an HTML page, no Retry-After.
const throttleRate = 0.3

// throttleRun is the full inspect again under throttling, compared with the
// clean inspect at the same latency and concurrency, and a re-merge under
// throttling compared with the clean one.
type throttleRun struct {
	clean, throttled *inspectRun
	// diff names the first backend whose report differs ("" when none).
	diff    string
	remerge *remergeRun
}

// runThrottled repeats clean's inspect with 30% of requests throttled.
func (f *fixture) runThrottled(ctx context.Context, clean *inspectRun, logf func(string, ...any)) (*throttleRun, error) {
	ir, err := f.runInspect(ctx, clean.latency, clean.concurrency, testreg.QuayThrottle(throttleRate))
	if err != nil {
		return nil, fmt.Errorf("throttled inspect: %w", err)
	}
	tr := &throttleRun{clean: clean, throttled: ir, diff: firstDiff(clean.report, ir.report)}
	logf("throttled inspect at %s: %s vs %s clean (%.2fx), %d 429s, same report: %v", ms(ir.latency),
		ir.wall.Round(time.Millisecond), clean.wall.Round(time.Millisecond), tr.ratio(), ir.throttles(), tr.diff == "")
	return tr, nil
}

// ratio is the throttled wall time over the clean one.
func (tr *throttleRun) ratio() float64 { return float64(tr.throttled.wall) / float64(tr.clean.wall) }

// allowed is the budget for the throttled run: 3x clean plus 1 s.
func (tr *throttleRun) allowed() time.Duration { return 3*tr.clean.wall + time.Second }

// throttles is the 429s both proxies answered during the run.
func (r *inspectRun) throttles() int {
	return r.quay.Status(http.StatusTooManyRequests) + r.hub.Status(http.StatusTooManyRequests)
}

// peak is the most requests in flight at either proxy during the run.
func (r *inspectRun) peak() int { return max(r.quay.PeakInFlight(), r.hub.PeakInFlight()) }

// firstDiff compares two reports backend by backend (verdicts, digests,
// cells, tags, problems: the JSON scripts read) and names the first that
// differs, with both versions.
func firstDiff(a, b *release.Report) string {
	if len(a.Backends) != len(b.Backends) {
		return fmt.Sprintf("%d backends vs %d", len(a.Backends), len(b.Backends))
	}
	for i := range a.Backends {
		ja, _ := json.Marshal(a.Backends[i])
		jb, _ := json.Marshal(b.Backends[i])
		if string(ja) != string(jb) {
			return fmt.Sprintf("%s: clean %s, throttled %s", a.Backends[i].Suffix, ja, jb)
		}
	}
	return ""
}

// throttleTargets are the throttling goals of issue 9 and the in-flight
// goal of issue 10.
func (m *measurement) throttleTargets() []target {
	var out []target
	if tr := m.throttle; tr != nil {
		out = append(out, target{
			name: fmt.Sprintf("inspect under %.0f%% HTML 429s within 3x clean + 1 s at %s", throttleRate*100, ms(tr.clean.latency)),
			measured: fmt.Sprintf("%s vs %s clean: %.2fx (%d 429s; allowed %s)", secs(tr.throttled.wall), secs(tr.clean.wall),
				tr.ratio(), tr.throttled.throttles(), secs(tr.allowed())),
			pass: tr.throttled.wall <= tr.allowed(),
		})
		same := "same verdicts, digests, cells and tags"
		if tr.diff != "" {
			same = "differs: " + short80(tr.diff)
		}
		out = append(out, target{name: "throttled inspect reports what the clean one does", measured: same, pass: tr.diff == ""})
		if rr := tr.remerge; rr != nil {
			out = append(out, target{
				name: "re-merge under throttling publishes the list buildx would write",
				measured: fmt.Sprintf("%s in %s (%d 429s), expected %s", short(rr.listDigest), secs(rr.wall()),
					rr.throttled, short(rr.wantDigest)),
				pass: rr.listDigest != "" && rr.listDigest == rr.wantDigest,
			})
		}
	}
	worst, limit := 0, 0
	for _, ir := range m.allInspects() {
		if ir.peak() > worst || (ir.peak() == worst && ir.concurrency < limit) {
			worst, limit = ir.peak(), ir.concurrency
		}
	}
	ok := true
	for _, ir := range m.allInspects() {
		ok = ok && ir.peak() <= ir.concurrency
	}
	out = append(out, target{
		name:     "peak in flight per registry never above --concurrency (at the proxy)",
		measured: fmt.Sprintf("worst run: peak %d at --concurrency %d (every run in the table below)", worst, limit),
		pass:     ok,
	})
	return out
}

// allInspects is every inspect the measurement ran, in report order.
func (m *measurement) allInspects() []*inspectRun {
	out := append([]*inspectRun{}, m.inspect...)
	out = append(out, m.wide...)
	if m.throttle != nil {
		out = append(out, m.throttle.throttled)
	}
	return out
}

func short80(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}

// writeThrottle writes the throttling section and the in-flight table.
func (m *measurement) writeThrottle(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if tr := m.throttle; tr != nil {
		c, t := tr.clean, tr.throttled
		w("\n## Throttled like quay.io: %.0f%% of requests answered 429 with an HTML page, no Retry-After, %s, --concurrency %d\n\n",
			throttleRate*100, ms(c.latency), c.concurrency)
		w("Both proxies answer a seeded %.0f%% of all requests (retries included: each try draws anew) with `429 Too Many Requests`, "+
			"`Content-Type: text/html`, nginx's page and no Retry-After, as quay.io does. remerge retries them after a short jittered backoff "+
			"under a per-request deadline, and each host's adaptive limit halves when most of a window of answers is throttled.\n\n", throttleRate*100)
		w("| | clean | throttled |\n|---|---:|---:|\n")
		w("| wall time | %s | %s (%.2fx) |\n", secs(c.wall), secs(t.wall), tr.ratio())
		w("| requests sent | %d | %d |\n", c.total(), t.total())
		w("| answered 429 | %d | %d |\n", c.throttles(), t.throttles())
		w("| peak in flight, quay side / docker.io side | %d / %d | %d / %d |\n", c.quay.PeakInFlight(), c.hub.PeakInFlight(),
			t.quay.PeakInFlight(), t.hub.PeakInFlight())
		w("| verdicts | %s | %s |\n", verdicts(c.report), verdicts(t.report))
		same := "yes: every backend's verdict, digests, cells and tags are identical"
		if tr.diff != "" {
			same = "no: " + tr.diff
		}
		w("| same report | | %s |\n", same)
		w("| allowed (3x clean + 1 s) | | %s |\n", secs(tr.allowed()))
		if rr, cr := tr.remerge, m.remerge; rr != nil && cr != nil {
			w("\nRe-merge of one reaped multi-arch backend into quay (as above, another backend of the same shape), through `repair.NewPlan`/`repair.Execute`, "+
				"inspect + plan + execute:\n\n| | clean (%s) | throttled (%s) |\n|---|---:|---:|\n", cr.suffix, rr.suffix)
			w("| wall time | %s | %s (%.2fx) |\n", secs(cr.wall()), secs(rr.wall()), float64(rr.wall())/float64(cr.wall()))
			w("| answered 429 | %d | %d |\n", cr.throttled, rr.throttled)
			w("| release tag resolves to the list buildx would write | %v | %v |\n",
				cr.listDigest == cr.wantDigest, rr.listDigest == rr.wantDigest)
		}
	}
	w("\n## Requests in flight per registry, measured at the proxies\n\n")
	w("A request counts from its arrival at the proxy until the last byte of its answer is handed to the connection, " +
		"so a body still streaming counts. Every inspect of this run:\n\n")
	w("| run | --concurrency | peak quay side | peak docker.io side | |\n|---|---:|---:|---:|---|\n")
	for _, ir := range m.allInspects() {
		name := fmt.Sprintf("inspect at %s", ms(ir.latency))
		if m.throttle != nil && ir == m.throttle.throttled {
			name += ", throttled"
		}
		verdict := "**PASS**"
		if ir.peak() > ir.concurrency {
			verdict = "**MISS**"
		}
		w("| %s | %d | %d | %d | %s |\n", name, ir.concurrency, ir.quay.PeakInFlight(), ir.hub.PeakInFlight(), verdict)
	}
}
