package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// releasePane is the release at a glance, shown over the screen on i: which
// run and repos were inspected, the verdict counts, and the findings that
// belong to no single backend (matrix mistakes, a failed tag listing, a
// registry that failed or denied its probes). Without it those would only
// reach the export.
type releasePane struct{ modal }

// box lays the pane out for a screen of width x height.
func (releasePane) box(r *release.Report, width, height int, s *Styles) modalBox {
	if r == nil {
		return layoutModal(width, height, 100, "Release", []string{s.Muted.Render("nothing inspected yet")})
	}
	var lines []string
	add := func(l string) { lines = append(lines, l) }
	if r.Release.RunNote != "" {
		add(s.Muted.Render("run: " + r.Release.RunNote))
		add("")
	}
	add(s.Section.Render("Repos"))
	for _, rp := range r.Repos {
		role := string(rp.Role)
		if rp.Name != "" {
			role += " " + rp.Name
		}
		add(fmt.Sprintf("  • %-16s %s", role, rp.Repo))
	}
	sum, _ := summarize(r)
	add("")
	add(s.Section.Render("Verdicts"))
	verdicts := fmt.Sprintf("  %d ok, %d repairable, %d unrepairable, %d conflict, %d unknown",
		sum.OK, sum.Repairable, sum.Unrepairable, sum.Conflict, sum.Unknown)
	if sum.NotBuilt > 0 {
		verdicts += fmt.Sprintf(", %d not built in this run", sum.NotBuilt)
	}
	add(verdicts)
	add("")
	add(s.Section.Render(fmt.Sprintf("Release-wide problems (%d)", len(r.Problems))))
	if len(r.Problems) == 0 {
		add(s.Muted.Render("  none"))
	}
	for _, p := range r.Problems {
		add("  • " + p)
	}
	return layoutModal(width, height, 100, "Release "+releaseTitle(r.Release), lines)
}

// Update closes the pane (i, esc), exports the report (e), or scrolls.
func (p releasePane) Update(msg tea.KeyPressMsg, e env) (dialog, dialogAction) {
	switch {
	case key.Matches(msg, e.keys.Release) || key.Matches(msg, e.keys.Cancel):
		return p, actionClose{}
	case key.Matches(msg, e.keys.Export):
		return p, actionExport{}
	}
	p.scrollKey(msg, e.keys, p.box(e.report, e.width, e.height, e.styles))
	return p, nil
}

// Render draws the pane for the screen e describes; it scrolls like a
// dialog, and e exports the whole report.
func (p releasePane) Render(e env) string {
	return p.render(p.box(e.report, e.width, e.height, e.styles), e.styles.Muted.Render("i/esc close • e export"), e.styles)
}

// releaseTitle is "v4.2.2 · run 25745181433 · sha 8521af1".
func releaseTitle(rel release.Release) string {
	parts := []string{rel.Ref}
	if rel.Run != "" {
		parts = append(parts, "run "+rel.Run)
	}
	if rel.SHA != "" {
		sha := rel.SHA
		if len(sha) > 7 {
			sha = sha[:7]
		}
		parts = append(parts, "sha "+sha)
	}
	return strings.Join(parts, " · ")
}
