package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// BenchmarkInspect runs a full `remerge inspect` of the LocalAI-sized
// release at each added latency and reports, besides ns/op (the wall time
// of the subprocess), the request counts, the budget, the concurrency bound
// and the peak RSS of the last iteration. The release is seeded once.
//
//	go test ./bench -run '^$' -bench Inspect -benchtime 1x
func BenchmarkInspect(b *testing.B) {
	ctx := context.Background()
	f, err := newFixture(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Close(); err != nil {
			b.Errorf("closing fixture: %v", err)
		}
	})
	for _, d := range latencies {
		b.Run(fmt.Sprintf("latency=%dms", d.Milliseconds()), func(b *testing.B) {
			var last *inspectRun
			for b.Loop() {
				r, err := f.runInspect(ctx, d, concurrency)
				if err != nil {
					b.Fatal(err)
				}
				last = r
			}
			bg := budgetOf(last)
			b.ReportMetric(float64(last.total()), "requests")
			b.ReportMetric(float64(last.requests("HEAD", testreg.KindManifest)), "manifest_HEADs")
			b.ReportMetric(float64(last.requests("GET", testreg.KindManifest)), "manifest_GETs")
			b.ReportMetric(float64(last.requests("", testreg.KindTags)), "tag_lists")
			b.ReportMetric(float64(last.requests("", testreg.KindPing)+last.requests("", testreg.KindToken)), "pings+tokens")
			b.ReportMetric(float64(last.quay.Requests("HEAD", testreg.KindManifest)), "quay_manifest_HEADs")
			b.ReportMetric(float64(last.quay.Requests("GET", testreg.KindManifest)), "quay_manifest_GETs")
			b.ReportMetric(float64(last.hub.Requests("HEAD", testreg.KindManifest)), "dockerio_manifest_HEADs")
			b.ReportMetric(float64(last.pulls()), "dockerio_pulls")
			b.ReportMetric(float64(bg.total()), "budget")
			b.ReportMetric(float64(last.bound().Milliseconds()), "bound_ms")
			if d > 0 {
				b.ReportMetric(last.ratio(), "ratio")
			}
			b.ReportMetric(mib(last.rssKiB), "peak_rss_MB")
		})
	}
}

// TestBound checks the bound's arithmetic: the busier registry decides,
// partial rounds count whole, and no latency means no bound.
func TestBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		requests []int
		limit    int
		latency  time.Duration
		want     time.Duration
	}{
		{"busier registry decides", []int{1600, 800}, 8, 20 * time.Millisecond, 4 * time.Second},
		{"partial round counts whole", []int{9, 1}, 8, 20 * time.Millisecond, 40 * time.Millisecond},
		{"exact rounds", []int{16, 16}, 8, 10 * time.Millisecond, 20 * time.Millisecond},
		{"no latency, no bound", []int{1000, 1000}, 8, 0, 0},
		{"no requests", []int{0, 0}, 8, 20 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := boundOf(tt.requests, tt.limit, tt.latency); got != tt.want {
				t.Errorf("boundOf(%v, %d, %s) = %s, want %s", tt.requests, tt.limit, tt.latency, got, tt.want)
			}
		})
	}
}

// TestDigestRepoPairs checks the budget's (digest, repo) count: each leg
// digest once per repo, a release tag's foreign child once in its target,
// duplicates and unknown digests not counted.
func TestDigestRepoPairs(t *testing.T) {
	t.Parallel()
	repos := []release.Repo{{Repo: "q/anchor"}, {Repo: "q/target"}, {Repo: "h/target"}}
	leg := func(d string) release.Leg { return release.Leg{Digest: d} }
	tests := []struct {
		name     string
		backends []*release.BackendReport
		want     int
	}{
		{"one leg, three repos", []*release.BackendReport{{Legs: []release.Leg{leg("sha256:a")}}}, 3},
		{"unknown digest costs nothing", []*release.BackendReport{{Legs: []release.Leg{leg("sha256:a"), leg("")}}}, 3},
		{"same digest twice counts once", []*release.BackendReport{
			{Legs: []release.Leg{leg("sha256:a")}}, {Legs: []release.Leg{leg("sha256:a")}},
		}, 3},
		{"foreign child of a release tag", []*release.BackendReport{{
			Legs: []release.Leg{leg("sha256:a")},
			Targets: map[string]*release.TargetStatus{"quay": {Repo: "q/target", Tags: map[string]release.TagStatus{
				"v1-x":     {Role: release.RoleRelease, Children: []string{"sha256:a", "sha256:z"}},
				"latest-x": {Role: release.RoleLatest, Children: []string{"sha256:old"}},
			}}},
		}}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := &release.Report{Repos: repos, Backends: tt.backends}
			if got := len(digestRepoPairs(rep)); got != tt.want {
				t.Errorf("digestRepoPairs = %d pairs, want %d", got, tt.want)
			}
		})
	}
}

// TestBudgetTerms checks the terms that depend on whether a registry counts
// pulls: a tag naming other bytes than its release tag costs a read where
// it was HEADed (a counting registry, or a release tag that was read), and
// nothing more where it was read with its one GET (a free registry whose
// release tag is absent); a keepalive costs a HEAD more only on a counting
// registry; each free registry costs one HEAD learning so.
func TestBudgetTerms(t *testing.T) {
	t.Parallel()
	const hub, quay = "hub.example/t", "quay.example/t"
	tags := func(relDigest string) map[string]release.TagStatus {
		return map[string]release.TagStatus{
			"v1":     {Role: release.RoleRelease, Digest: relDigest},
			"latest": {Role: release.RoleLatest, Digest: "sha256:old"},
		}
	}
	report := func(anchor string) *release.Report {
		return &release.Report{
			Repos:      []release.Repo{{Repo: anchor, Role: release.RoleAnchor}, {Repo: quay}, {Repo: hub}},
			Registries: map[string]release.RegistryBudget{"hub.example": {}},
			Backends: []*release.BackendReport{{
				Legs: []release.Leg{{Digest: "sha256:a", DigestFrom: release.FromAnchor}},
				Targets: map[string]*release.TargetStatus{
					"quay-absent": {Repo: quay, Tags: tags("")},
					"quay-read":   {Repo: quay, Tags: tags("sha256:new")},
					"hub-absent":  {Repo: hub, Tags: tags("")},
				},
			}},
		}
	}
	tests := []struct {
		name                        string
		anchor                      string
		elsewhere, anchors, learned int
	}{
		{"anchor on the free registry", "quay.example/ci", 2, 0, 1},
		{"anchor on the counting registry", "hub.example/ci", 2, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := budgetOf(&inspectRun{report: report(tt.anchor)})
			if b.elsewhere != tt.elsewhere || b.anchors != tt.anchors || b.learning != tt.learned {
				t.Errorf("elsewhere %d, anchors %d, learning %d; want %d, %d, %d", b.elsewhere, b.anchors, b.learning, tt.elsewhere, tt.anchors, tt.learned)
			}
		})
	}
}
