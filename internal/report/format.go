package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/release"
)

// WriteJSON writes the report as one indented JSON document: the contract of
// DESIGN.md section 9 that scripts rely on. Nil lists and maps are written as
// [] and {} so that a consumer can iterate without null checks.
func WriteJSON(w io.Writer, r *release.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalized(r)); err != nil {
		return fmt.Errorf("writing json report: %w", err)
	}
	return nil
}

// normalized returns a copy of r whose contract lists and maps are non-nil.
// The caller's report is not modified.
func normalized(r *release.Report) *release.Report {
	out := *r
	if out.Repos == nil {
		out.Repos = []release.Repo{}
	}
	out.Backends = make([]*release.BackendReport, 0, len(r.Backends))
	for _, b := range r.Backends {
		nb := *b
		if nb.Problems == nil {
			nb.Problems = []string{}
		}
		if nb.Targets == nil {
			nb.Targets = map[string]*release.TargetStatus{}
		}
		nb.Legs = make([]release.Leg, 0, len(b.Legs))
		for _, l := range b.Legs {
			if l.Cells == nil {
				l.Cells = map[string]release.Cell{}
			}
			nb.Legs = append(nb.Legs, l)
		}
		for name, t := range nb.Targets {
			if t != nil && t.Tags == nil {
				nt := *t
				nt.Tags = map[string]release.TagStatus{}
				nb.Targets[name] = &nt
			}
		}
		out.Backends = append(out.Backends, &nb)
	}
	return &out
}

// cellGlyph is the one-character picture of a cell used by the table and
// markdown renderers, from the glyph set the TUI draws too.
func cellGlyph(c release.Cell, ok bool) string { return glyphs.ProbedCell(c, ok).Sym }

// reportLayout holds what every text renderer derives from a report: the
// repo column order and the target names in config order.
type reportLayout struct {
	repos   []release.Repo
	targets []string
}

func newReportLayout(r *release.Report) reportLayout {
	var l reportLayout
	l.repos = r.Repos
	if len(l.repos) == 0 {
		// A report built without Repos: fall back to the cell keys, sorted.
		seen := map[string]bool{}
		var keys []string
		for _, b := range r.Backends {
			for _, leg := range b.Legs {
				for k := range leg.Cells {
					if !seen[k] {
						seen[k] = true
						keys = append(keys, k)
					}
				}
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			l.repos = append(l.repos, release.Repo{Repo: k})
		}
	}
	for _, rp := range l.repos {
		if rp.Role == release.RoleTarget && rp.Name != "" {
			l.targets = append(l.targets, rp.Name)
		}
	}
	if len(l.targets) == 0 {
		seen := map[string]bool{}
		for _, b := range r.Backends {
			for name := range b.Targets {
				if !seen[name] {
					seen[name] = true
					l.targets = append(l.targets, name)
				}
			}
		}
		sort.Strings(l.targets)
	}
	return l
}

// legs renders every leg of b as "amd64 ●○● arm64 ●●●", one glyph per repo
// in column order.
func (l reportLayout) legs(b *release.BackendReport) string {
	parts := make([]string, 0, len(b.Legs))
	for _, leg := range b.Legs {
		var sb strings.Builder
		sb.WriteString(leg.PlatformTag)
		sb.WriteByte(' ')
		for _, rp := range l.repos {
			c, ok := leg.Cells[rp.Repo]
			sb.WriteString(cellGlyph(c, ok))
		}
		parts = append(parts, sb.String())
	}
	return strings.Join(parts, " ")
}

// target renders the release-tag state of b in the named target, followed
// by the latest marker: " L" when latest-<suffix> is on this release or
// already on a newer one, " L!" when inspect found it lets users down
// (TagStatus.UserImpact: stale, missing, broken, unreadable); then the
// signature mark of a complete release tag.
func (l reportLayout) target(b *release.BackendReport, name string) string {
	t := b.Targets[name]
	if t == nil {
		return "-"
	}
	s := string(t.State)
	for _, ts := range t.Tags {
		if ts.Role != release.RoleLatest {
			continue
		}
		switch {
		case ts.UserImpact != "":
			s += " L!"
		case ts.State == release.TagComplete || ts.Newer != "":
			s += " L"
		}
		break
	}
	if m, ok := SignatureMark(t); ok {
		s += m.Sym // no space: narrow tables stay within 80 columns
	}
	return s
}

// repoLegend names the repo of every glyph column, in order.
func (l reportLayout) repoLegend() []string {
	parts := make([]string, 0, len(l.repos))
	for i, rp := range l.repos {
		label := rp.Repo
		switch {
		case rp.Role == release.RoleTarget && rp.Name != "":
			label += " (" + rp.Name + ")"
		case rp.Role != "":
			label += " (" + string(rp.Role) + ")"
		}
		parts = append(parts, fmt.Sprintf("%d=%s", i+1, label))
	}
	return parts
}

// summaryLine is the one-line verdict count shared by every renderer.
func summaryLine(r *release.Report) string {
	s := r.Summary
	noun := "backends"
	if len(r.Backends) == 1 {
		noun = "backend"
	}
	line := fmt.Sprintf("%d %s: %d ok, %d repairable, %d unrepairable, %d conflict, %d unknown",
		len(r.Backends), noun, s.OK, s.Repairable, s.Unrepairable, s.Conflict, s.Unknown)
	if s.NotBuilt > 0 {
		line += fmt.Sprintf(", %d not built in this run", s.NotBuilt)
	}
	return line
}

// releaseLine names the release as "v4.2.2 (run 123, sha abc1234)".
func releaseLine(rel release.Release) string {
	var extra []string
	if rel.Run != "" {
		extra = append(extra, "run "+rel.Run)
	}
	if rel.SHA != "" {
		extra = append(extra, "sha "+rel.SHA)
	}
	if len(extra) == 0 {
		return rel.Ref
	}
	return rel.Ref + " (" + strings.Join(extra, ", ") + ")"
}

// kindShort keeps the kind column narrow in the table.
func kindShort(k release.Kind) string {
	if k == release.KindMultiarch {
		return "multi"
	}
	return string(k)
}

// WriteTable writes a plain-text table meant to be read at about width
// columns (100 is a good default): a legend, one row per backend (suffix,
// kind, verdict, per-repo cell glyphs per leg, release-tag state per target
// with a latest marker), the problems of every broken backend, the
// release-wide problems and a summary line. A suffix is never cut (see
// rows).
func WriteTable(w io.Writer, r *release.Report, width int) error {
	if width <= 0 {
		width = 100
	}
	l := newReportLayout(r)
	tw := &textWriter{w: w}

	tw.line("release " + releaseLine(r.Release))
	if len(l.repos) > 0 {
		tw.items("repos: ", l.repoLegend(), width)
	}
	tw.items("cells: ", glyphs.CellLegend(), width)
	if len(l.targets) > 0 {
		tw.line("targets: release-tag state; L latest up to date, L! latest stale or missing")
		tw.items("signatures: ", SignatureLegend, width)
	}
	tw.line("")

	tw.rows(tableRows(r, l), width)

	first := true
	for _, b := range r.Backends {
		// An ok backend is listed when it has findings (an unsigned list).
		if len(b.Problems) == 0 && len(b.Impact) == 0 {
			continue
		}
		if first {
			tw.line("")
			tw.line("PROBLEMS")
			first = false
		}
		tw.line(b.Suffix + " (" + string(b.Verdict) + ")")
		for _, p := range b.Problems {
			tw.wrapped("  - ", p, width)
		}
		for _, p := range b.Impact {
			tw.wrapped("  - impact: ", p, width)
		}
	}
	if len(r.Problems) > 0 {
		tw.line("")
		tw.line("RELEASE")
		for _, p := range r.Problems {
			tw.wrapped("  - ", p, width)
		}
	}
	tw.line("")
	tw.line(summaryLine(r))
	return tw.err
}

// tableRows are the header and one row per backend: suffix, kind,
// verdict, legs, then one release-tag state per target.
func tableRows(r *release.Report, l reportLayout) [][]string {
	header := []string{"SUFFIX", "KIND", "VERDICT", "LEGS"}
	for _, t := range l.targets {
		header = append(header, strings.ToUpper(t))
	}
	rows := [][]string{header}
	for _, b := range r.Backends {
		row := []string{b.Suffix, kindShort(b.Kind), string(b.Verdict), l.legs(b)}
		for _, t := range l.targets {
			row = append(row, l.target(b, t))
		}
		rows = append(rows, row)
	}
	return rows
}

// rows writes the table within width. The suffix is the backend's
// identity, so it is never cut: the kind column goes first, and a suffix
// still too long for its column gets a line of its own, the row's other
// columns following on the next line in their places.
func (t *textWriter) rows(rows [][]string, width int) {
	if len(rows) <= 1 {
		t.line("no backends")
		return
	}
	widthsOf := func(rows [][]string) []int {
		w := make([]int, len(rows[0]))
		for _, row := range rows {
			for i, c := range row {
				w[i] = max(w[i], utf8.RuneCountInString(c))
			}
		}
		return w
	}
	rest := func(w []int) int {
		n := 0
		for _, c := range w[1:] {
			n += c + 2
		}
		return n
	}
	widths := widthsOf(rows)
	if widths[0]+rest(widths) > width {
		for i, row := range rows { // drop KIND
			rows[i] = append([]string{row[0]}, row[2:]...)
		}
		widths = widthsOf(rows)
	}
	col := max(min(widths[0], width-rest(widths)), 12, len(rows[0][0]))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			w := widths[i]
			if i == 0 {
				w = col
				if utf8.RuneCountInString(c) > col {
					t.line(c) // the whole suffix, on its own line
					c = ""
				}
			}
			if i < len(row)-1 {
				c += strings.Repeat(" ", max(0, w-utf8.RuneCountInString(c)))
			}
			cells[i] = c
		}
		t.line(strings.Join(cells, "  "))
	}
}

// textWriter writes lines and remembers the first error, so renderers read
// as a sequence of lines rather than a ladder of error checks.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(s string) {
	if t.err != nil {
		return
	}
	_, t.err = io.WriteString(t.w, strings.TrimRight(s, " ")+"\n")
}

// wrapped writes prefix+text word-wrapped at width, continuation lines
// indented under the text. Words longer than the width are not split.
func (t *textWriter) wrapped(prefix, text string, width int) {
	t.fill(prefix, strings.Fields(text), " ", width)
}

// items writes legend entries separated by two spaces, wrapped at width.
func (t *textWriter) items(prefix string, items []string, width int) {
	t.fill(prefix, items, "  ", width)
}

func (t *textWriter) fill(prefix string, items []string, sep string, width int) {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	cur := prefix
	curLen := utf8.RuneCountInString(prefix)
	empty := true
	for _, it := range items {
		il := utf8.RuneCountInString(it)
		if !empty && curLen+len(sep)+il > width {
			t.line(cur)
			cur, curLen, empty = indent, len(indent), true
		}
		if !empty {
			cur += sep
			curLen += len(sep)
		}
		cur += it
		curLen += il
		empty = false
	}
	t.line(cur)
}
