package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/internal/release"
)

// TestTableOneColumnPerPlatform: the recipe's image draws one leg column
// per platform, arm/v7 included; LocalAI's rows keep their two.
func TestTableOneColumnPerPlatform(t *testing.T) {
	repos := []release.Repo{{Repo: "ghcr.io/acme/app", Role: release.RoleTarget, Name: "ghcr"}, {Repo: "docker.io/acme/app", Role: release.RoleTarget, Name: "dockerhub"}}
	b := &release.BackendReport{Suffix: "acme/app", Kind: release.KindMultiarch, Verdict: release.VerdictUnrepairable, Targets: map[string]*release.TargetStatus{}}
	states := []release.CellState{release.CellPresent, release.CellMissing, release.CellUnknown}
	for i, p := range []string{"linux/amd64", "linux/arm64", "linux/arm/v7"} {
		cells := map[string]release.Cell{}
		for _, r := range repos {
			cells[r.Repo] = release.Cell{State: states[i]}
		}
		b.Legs = append(b.Legs, release.Leg{PlatformTag: release.PlatformTag(p), Platform: p, Cells: cells})
	}
	rows := []*release.BackendReport{b}
	if got := legGroups(rows); strings.Join(got, " ") != "amd64 arm64 arm-v7" {
		t.Fatalf("groups %v", got)
	}
	tb := &table{}
	tb.SetSize(100, 4)
	s := NewStyles(true)
	out := ansi.Strip(tb.Render(tableData{Repos: repos, Targets: repos, Rows: rows, Groups: legGroups(rows)}, &s))
	lines := strings.Split(out, "\n")
	for _, g := range []string{"amd64 ", "arm64 ", "arm-v7 "} {
		if !strings.Contains(lines[0], g) {
			t.Errorf("header lacks the %s column:\n%s", g, out)
		}
	}
	if strings.Count(lines[2], "●") != 2 || strings.Count(lines[2], "○") != 2 || strings.Count(lines[2], "?") != 2 {
		t.Errorf("row lacks a cell per platform and repo:\n%s", out)
	}
	for _, l := range lines {
		// A squeezed suffix column once left the last target's trailing
		// space one cell over the width, and the row was cut with "…".
		if w := ansi.StringWidth(l); w > 100 || strings.HasSuffix(strings.TrimRight(l, " "), "…") {
			t.Errorf("line of %d columns, or cut: %q", w, l)
		}
	}
	local := []*release.BackendReport{{Legs: []release.Leg{{PlatformTag: "amd64"}, {PlatformTag: "arm64"}}}, {Legs: []release.Leg{{PlatformTag: "single"}}}}
	if got := legGroups(local); strings.Join(got, " ") != "amd64 arm64" {
		t.Errorf("LocalAI groups %v", got)
	}
}
