package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/release"
)

// WriteMarkdown writes the report for a GitHub step summary: a heading with
// the release, the summary line, a table of the backends that are not ok or
// have findings (worst first) with their legs, per-target state, signature
// and problems, the other ok backends folded in a <details> block, and the
// release-wide problems.
func WriteMarkdown(w io.Writer, r *release.Report) error {
	l := newReportLayout(r)
	tw := &textWriter{w: w}
	tw.line("### remerge: " + mdEscape(releaseLine(r.Release)))
	tw.line("")
	tw.line("**" + summaryLine(r) + "**")
	tw.line("")

	var broken, ok []*release.BackendReport
	for _, b := range r.Backends {
		// An ok backend with findings (an unsigned list) goes in the table.
		if b.Verdict == release.VerdictOK && len(b.Problems) == 0 && len(b.Impact) == 0 {
			ok = append(ok, b)
		} else {
			broken = append(broken, b)
		}
	}
	sort.SliceStable(broken, func(i, j int) bool { return broken[i].Verdict.Rank() < broken[j].Verdict.Rank() })

	if len(broken) > 0 || len(ok) > 0 {
		tw.line("Legs show one cell per repo, in order: " + mdEscape(strings.Join(l.repoLegend(), ", ")) + ".  ")
		tw.line("Cells: " + mdEscape(strings.Join(glyphs.CellLegend(), "; ")) + ". Targets: release-tag state; L latest up to date, L! latest stale or missing.")
		tw.line("Signatures: " + mdEscape(strings.Join(SignatureLegend, "; ")) + ".")
		tw.line("")
	}
	if len(broken) > 0 {
		mdBrokenTable(tw, l, broken)
	}
	if len(ok) > 0 {
		tw.line(fmt.Sprintf("<details><summary>%d ok backends</summary>", len(ok)))
		tw.line("")
		head, sep := "| backend | kind | legs |", "|---|---|---|"
		for _, t := range l.targets {
			head += " " + mdEscape(t) + " |"
			sep += "---|"
		}
		tw.line(head)
		tw.line(sep)
		for _, b := range ok {
			row := "| `" + b.Suffix + "` | " + string(b.Kind) + " | " + mdLegs(l, b) + " |"
			for _, t := range l.targets {
				row += " " + mdEscape(l.target(b, t)) + " |"
			}
			tw.line(row)
		}
		tw.line("")
		tw.line("</details>")
		tw.line("")
	}
	if len(r.Problems) > 0 {
		tw.line("Release-wide problems:")
		tw.line("")
		for _, p := range r.Problems {
			tw.line("- " + mdEscape(p))
		}
		tw.line("")
	}
	return tw.err
}

// mdLegs renders the legs of b one per line inside a table cell.
func mdLegs(l reportLayout, b *release.BackendReport) string {
	parts := make([]string, 0, len(b.Legs))
	for _, leg := range b.Legs {
		one := reportLayout{repos: l.repos}
		parts = append(parts, mdEscape(one.legs(&release.BackendReport{Legs: []release.Leg{leg}})))
	}
	return strings.Join(parts, "<br>")
}

// mdEscape keeps free text from breaking a table row or being read as HTML.
var mdEscape = strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`").Replace

// MarkdownText escapes free text for a line of markdown, as the report's
// own cells are escaped.
func MarkdownText(s string) string { return mdEscape(s) }

// mdBrokenTable writes the table of the backends that are not ok or have
// findings, with their problems and impact.
func mdBrokenTable(tw *textWriter, l reportLayout, broken []*release.BackendReport) {
	head := "| backend | verdict | legs |"
	sep := "|---|---|---|"
	for _, t := range l.targets {
		head += " " + mdEscape(t) + " |"
		sep += "---|"
	}
	tw.line(head + " problems |")
	tw.line(sep + "---|")
	for _, b := range broken {
		row := "| `" + b.Suffix + "` | " + string(b.Verdict) + " | " + mdLegs(l, b) + " |"
		for _, t := range l.targets {
			row += " " + mdEscape(l.target(b, t)) + " |"
		}
		var notes []string
		for _, p := range b.Problems {
			notes = append(notes, mdEscape(p))
		}
		for _, p := range b.Impact {
			notes = append(notes, "impact: "+mdEscape(p))
		}
		tw.line(row + " " + strings.Join(notes, "<br>") + " |")
	}
	tw.line("")

}
