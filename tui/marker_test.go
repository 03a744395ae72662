package tui

import (
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestUserFacingBroken checks the ⚑ rule: every latest (or branch) tag that
// inspect judged not complete is flagged, dangling included; a latest that
// moved on to a newer release (no UserImpact) and a release tag are not.
func TestUserFacingBroken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   string
		state  release.TagState
		impact string // the UserImpact inspect gives the tag; "" for none
		want   bool
	}{
		{"complete", release.RoleLatest, release.TagComplete, "", false},
		{"stale", release.RoleLatest, release.TagStale, "stale: users silently get the previous image", true},
		{"missing", release.RoleLatest, release.TagMissing, "missing: installs fail with MANIFEST_UNKNOWN", true},
		{"dangling", release.RoleLatest, release.TagDangling, "dangling: pulls fail for the missing platform", true},
		{"partial", release.RoleLatest, release.TagPartial, "partial", true},
		{"denied", release.RoleLatest, release.TagDenied, "denied", true},
		{"branch dangling", release.RoleBranch, release.TagDangling, "dangling: pulls fail for the missing platform", true},
		{"latest moved on to a newer release", release.RoleLatest, release.TagStale, "", false},
		{"not judged yet", release.RoleLatest, release.TagDangling, "", false},
		{"release tag is not user-facing latest", release.RoleRelease, release.TagMissing, "missing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tag := "latest-cpu-kokoro"
			b := &release.BackendReport{Suffix: "-cpu-kokoro", Targets: map[string]*release.TargetStatus{
				"quay": {Repo: quayRepo, Tags: map[string]release.TagStatus{tag: {State: tt.state, Role: tt.role, UserImpact: tt.impact}}},
				"dockerhub": {Repo: hubRepo, Tags: map[string]release.TagStatus{
					tag: {State: release.TagComplete, Role: release.RoleLatest}}},
			}}
			if tt.impact != "" {
				// The same tag broken in another target must not leak here.
				b.Impact = []string{tag + " in quay: " + tt.impact}
			}
			if got := userFacingBroken(b, "quay"); got != tt.want {
				t.Errorf("quay: got %v, want %v", got, tt.want)
			}
			if userFacingBroken(b, "dockerhub") {
				t.Error("dockerhub, complete there, is flagged")
			}
			if userFacingBroken(b, "nowhere") || userFacingBroken(nil, "quay") {
				t.Error("a missing target or backend is flagged")
			}
		})
	}
}

// TestDanglingLatestMarkedInTable checks the marker on screen and in the
// markdown export for a latest that names a child missing in its repo.
func TestDanglingLatestMarkedInTable(t *testing.T) {
	t.Parallel()
	f := newFake()
	b := f.report.Backends[0] // -cpu-kokoro, healthy in the fixture
	ts := b.Targets["dockerhub"]
	ts.Tags["latest-cpu-kokoro"] = release.TagStatus{State: release.TagDangling, Role: release.RoleLatest, Digest: dg('e'),
		UserImpact: "dangling: pulls fail for the missing platform"}
	b.Verdict = release.VerdictRepairable
	b.Impact = []string{"latest-cpu-kokoro in dockerhub: dangling: pulls fail for the missing platform"}
	m := started(t, f, 160, 48)
	var row string
	for _, l := range strings.Split(stripped(m.render()), "\n") {
		if strings.Contains(l, "-cpu-kokoro ") {
			row = l
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(row), "✓ complete ⚑") || strings.Count(row, "⚑") != 1 {
		t.Errorf("row = %q, want ⚑ on dockerhub only", row)
	}
	// The export is internal/report's markdown, the CLI's: its latest
	// marker is L! where the table draws ⚑.
	var md strings.Builder
	if err := m.markdown(&md, m.report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| complete L | complete L! |") {
		t.Errorf("markdown lacks the marker:\n%s", md.String())
	}
}
