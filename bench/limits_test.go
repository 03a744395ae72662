package bench

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// quayBucket is quay's template limit on manifests (DESIGN.md section 8),
// the scenario: 50 r/s, burst 10, HTML 429.
var quayBucket = testreg.QuayManifestBucket(quayRate)

// quayRate is quayBucket's rate, for the prose and the targets.
const quayRate = 50

// limitsRun is the inspect again behind quay's token bucket, and behind
// Docker Hub's spent pull quota, each compared with the clean inspect at
// the same latency.
type limitsRun struct {
	clean *inspectRun
	// bucket: quay's proxy limits manifests to quayRate a second.
	bucket     *inspectRun
	bucketDiff string // first backend whose report differs ("" when none)
	refused    int    // requests the bucket refused
	// quota: docker.io's proxy answers as Docker Hub once the anonymous
	// quota is spent.
	quota        *inspectRun
	quotaBad     string // a verdict neither the clean one nor unknown ("" when none)
	quotaRefused int    // requests refused for the quota
	afterRefusal int    // requests docker.io's proxy saw after the first refusal
}

// runLimits runs both scenarios after clean's inspect.
func (f *fixture) runLimits(ctx context.Context, clean *inspectRun, logf func(string, ...any)) (*limitsRun, error) {
	lr := &limitsRun{clean: clean}
	defer f.quayProxy.ClearLimits()
	defer f.hubProxy.ClearLimits()
	f.quayProxy.AddTokenBucket(quayBucket)
	ir, err := f.runInspect(ctx, clean.latency, clean.concurrency)
	if err != nil {
		return nil, fmt.Errorf("inspect behind quay's token bucket: %w", err)
	}
	lr.bucket, lr.refused, lr.bucketDiff = ir, f.quayProxy.BucketRefusals(), firstDiff(clean.report, ir.report)
	f.quayProxy.ClearLimits()
	logf("token bucket at %d r/s: %s, %d useful quay manifest requests, %d refused (%.1f%%), %.2fx of requests/rate, same report: %v",
		quayRate, ir.wall.Round(time.Millisecond), lr.useful(), lr.refused, 100*lr.refusedShare(), lr.bucketRatio(), lr.bucketDiff == "")

	f.hubProxy.SetPullQuota(testreg.DockerHubQuota(0))
	if ir, err = f.runInspect(ctx, clean.latency, clean.concurrency); err != nil {
		return nil, fmt.Errorf("inspect behind a spent pull quota: %w", err)
	}
	lr.quota, lr.quotaBad = ir, cleanOrUnknown(clean.report, ir.report)
	_, lr.quotaRefused = f.hubProxy.QuotaCounts()
	lr.afterRefusal = f.hubProxy.AfterQuotaRefusal()
	logf("spent quota: %s, %d refused, %d requests after the first refusal, %d unknown, stderr names the limit: %v",
		ir.wall.Round(time.Millisecond), lr.quotaRefused, lr.afterRefusal, ir.report.Summary.Unknown, lr.namesLimit())
	return lr, nil
}

// useful is the bucket run's quay manifest requests that were answered:
// what a client that never hit the bucket would have sent.
func (lr *limitsRun) useful() int {
	return lr.bucket.quay.Requests("", testreg.KindManifest) - lr.refused
}

// refusedShare is the refused requests over the useful ones: the issue's
// "extra requests answered 429".
func (lr *limitsRun) refusedShare() float64 {
	return float64(lr.refused) / float64(max(lr.useful(), 1))
}

// ideal is the useful requests at the bucket's rate: no client can do
// better.
func (lr *limitsRun) ideal() time.Duration {
	return time.Duration(float64(lr.useful()) / quayRate * float64(time.Second))
}

func (lr *limitsRun) bucketRatio() float64 { return float64(lr.bucket.wall) / float64(lr.ideal()) }

// namesLimit reports whether the quota run's stderr names the pull limit
// and the way out.
func (lr *limitsRun) namesLimit() bool {
	return strings.Contains(lr.quota.stderr, "pull limit reached (0 of 100 per 6 h left)") &&
		strings.Contains(lr.quota.stderr, "docker login")
}

// reportNamesLimit reports whether the JSON report has docker.io's budget
// spent, with the message.
func (lr *limitsRun) reportNamesLimit() bool {
	for _, b := range lr.quota.report.Registries {
		if b.QuotaSpent && strings.Contains(b.Message, "pull limit reached") {
			return true
		}
	}
	return false
}

// cleanOrUnknown names the first backend whose verdict is neither the clean
// run's nor unknown ("" when none).
func cleanOrUnknown(clean, got *release.Report) string {
	for i, b := range got.Backends {
		if b.Verdict != release.VerdictUnknown && b.Verdict != clean.Backends[i].Verdict {
			return fmt.Sprintf("%s: %s, clean %s", b.Suffix, b.Verdict, clean.Backends[i].Verdict)
		}
	}
	return ""
}

// limitsTargets are issue 17's goals for the two scenarios.
func (m *measurement) limitsTargets() []target {
	lr := m.limits
	if lr == nil {
		return nil
	}
	same := "same verdicts, digests, cells and tags"
	if lr.bucketDiff != "" {
		same = "differs: " + short80(lr.bucketDiff)
	}
	quotaVerdicts := fmt.Sprintf("clean or unknown (%d unknown)", lr.quota.report.Summary.Unknown)
	if lr.quotaBad != "" {
		quotaVerdicts = "not: " + lr.quotaBad
	}
	return []target{
		{name: fmt.Sprintf("quay at %d r/s (token bucket, burst %d): same report as clean", quayRate, quayBucket.Burst), measured: same, pass: lr.bucketDiff == ""},
		{name: fmt.Sprintf("quay at %d r/s: within 1.15x of requests/%d s", quayRate, quayRate),
			measured: fmt.Sprintf("%s vs %s (%d requests): %.2fx", secs(lr.bucket.wall), secs(lr.ideal()), lr.useful(), lr.bucketRatio()),
			pass:     lr.bucketRatio() <= 1.15},
		{name: fmt.Sprintf("quay at %d r/s: at most 15%% extra requests answered 429", quayRate),
			measured: fmt.Sprintf("%d refused for %d answered: %.1f%%", lr.refused, lr.useful(), 100*lr.refusedShare()),
			pass:     lr.refusedShare() <= 0.15},
		{name: "quota already spent: inspect ends within 60 s, exit 1", measured: secs(lr.quota.wall), pass: lr.quota.wall <= time.Minute},
		{name: "quota already spent: report and stderr name the pull limit and the way out",
			measured: fmt.Sprintf("report: %v, stderr: %v", lr.reportNamesLimit(), lr.namesLimit()), pass: lr.reportNamesLimit() && lr.namesLimit()},
		{name: "quota already spent: at most 50 requests to docker.io after the first refusal",
			measured: fmt.Sprintf("%d (%d refused for the quota)", lr.afterRefusal, lr.quotaRefused), pass: lr.afterRefusal <= 50},
		{name: "quota already spent: every verdict the clean run's or unknown", measured: quotaVerdicts, pass: lr.quotaBad == ""},
	}
}

// writeLimits writes the rate-limit section.
func (m *measurement) writeLimits(b *strings.Builder) {
	lr := m.limits
	if lr == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	c, t, q := lr.clean, lr.bucket, lr.quota
	w("\n## Rate limits: quay's token bucket and Docker Hub's spent pull quota, %s, --concurrency %d\n\n", ms(c.latency), c.concurrency)
	w("**Token bucket.** quay's proxy limits manifest requests as nginx's `limit_req` in quay's template does: %d r/s, burst %d, "+
		"a refusal is 429 with nginx's HTML page and no Retry-After. remerge learns the rate from the answers between refusals and "+
		"paces each host's manifests to it (`golang.org/x/time/rate`).\n\n", quayRate, quayBucket.Burst)
	w("| | clean | token bucket |\n|---|---:|---:|\n")
	w("| wall time | %s | %s |\n", secs(c.wall), secs(t.wall))
	w("| quay manifest requests answered | %d | %d |\n", c.quay.Requests("", testreg.KindManifest), lr.useful())
	w("| answered 429 by the bucket | | %d (%.1f%% of those answered) |\n", lr.refused, 100*lr.refusedShare())
	w("| requests / %d r/s | | %s; wall is %.2fx of it |\n", quayRate, secs(lr.ideal()), lr.bucketRatio())
	w("| verdicts | %s | %s |\n", verdicts(c.report), verdicts(t.report))
	w("\n**Spent quota.** docker.io's proxy answers every manifest request, HEAD included, as Docker Hub does once the anonymous " +
		"quota is spent: 429, `TOOMANYREQUESTS`, `ratelimit-remaining: 0;w=21600`. remerge stops asking that registry at the first " +
		"refusal; what was not judged there is unknown.\n\n")
	w("| | clean | quota spent |\n|---|---:|---:|\n")
	w("| wall time | %s | %s |\n", secs(c.wall), secs(q.wall))
	w("| requests to docker.io | %d | %d (%d after the first refusal, %d refused) |\n", c.hub.Total(), q.hub.Total(), lr.afterRefusal, lr.quotaRefused)
	w("| answered 429 at docker.io | %d | %d |\n", c.hub.Status(http.StatusTooManyRequests), q.hub.Status(http.StatusTooManyRequests))
	w("| verdicts | %s | %s |\n", verdicts(c.report), verdicts(q.report))
	if line := firstQuotaLine(q.stderr); line != "" {
		w("\nstderr: `%s`\n", line)
	}
}

// firstQuotaLine is the stderr line that names the pull limit.
func firstQuotaLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "pull limit") {
			return l
		}
	}
	return ""
}

// limitsFlag runs only the rate-limit scenarios (and the clean inspect they
// compare with) and writes their section: a check of this file without
// the whole benchmark.
var limitsFlag = flag.String("limits", "", "run only the rate-limit scenarios and write their markdown section here")

// TestLimits is runLimits alone: go test ./bench -run TestLimits -args -limits /tmp/limits.md
func TestLimits(t *testing.T) {
	if *limitsFlag == "" {
		t.Skip("rate-limit scenarios not requested: pass -limits FILE")
	}
	ctx := context.Background()
	f, err := newFixture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Logf("closing fixture: %v", err)
		}
	}()
	last := latencies[len(latencies)-1]
	clean, err := f.runInspect(ctx, last, concurrency)
	if err != nil {
		t.Fatal(err)
	}
	m := &measurement{f: f}
	if m.limits, err = f.runLimits(ctx, clean, t.Logf); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	m.writeLimits(&b)
	for _, tg := range m.limitsTargets() {
		fmt.Fprintf(&b, "\n- %s %s: %s", tg.verdict(), tg.name, tg.measured)
		t.Logf("%-4s %s: %s", tg.verdict(), tg.name, tg.measured)
	}
	if err := os.WriteFile(*limitsFlag, []byte(b.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
