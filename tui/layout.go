package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/internal/release"
)

// rect is one named area of the screen.
type rect struct{ X, Y, W, H int }

// rects is the screen cut into named areas by layout.
type rects struct {
	Header, Table, Detail, Status, Help rect
	// Compact is the 80x24 layout: a two-line header, abbreviated columns.
	Compact bool
	// Split is true when the detail pane sits beside the table; when the
	// pane is open and Split is false it replaces the table.
	Split bool
}

const (
	compactWidth  = 110 // below this width: compact header
	compactHeight = 30  // below this height: compact header
	splitWidth    = 150 // from this width the detail pane sits beside the table
)

// computeLayout cuts a w x h screen. statusLines is the height of the
// status line (one, or two for a long message); the key help is one line.
func computeLayout(w, h int, detailOpen bool, statusLines int) rects {
	r := rects{Compact: w < compactWidth || h < compactHeight}
	headerH := 3
	if r.Compact {
		headerH = 2
	}
	statusLines = max(1, min(statusLines, 2))
	bodyH := max(0, h-headerH-statusLines-1)
	r.Header = rect{0, 0, w, headerH}
	body := rect{0, headerH, w, bodyH}
	r.Status = rect{0, headerH + bodyH, w, statusLines}
	r.Help = rect{0, headerH + bodyH + statusLines, w, 1}
	switch {
	case !detailOpen:
		r.Table = body
	case w >= splitWidth:
		r.Split = true
		dw := max(80, w*2/5) // a digest fits on one line
		r.Table = rect{0, body.Y, w - dw, bodyH}
		r.Detail = rect{w - dw, body.Y, dw, bodyH}
	default:
		r.Detail = body
	}
	return r
}

// layout recomputes the rectangles and pushes sizes down to the children.
// It runs on every WindowSizeMsg and whenever a pane opens or closes.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.rects = computeLayout(m.width, m.height, m.showDetail, m.statusLines())
	m.table.SetSize(m.rects.Table.W, m.rects.Table.H)
	m.detail.SetSize(m.rects.Detail.W, m.rects.Detail.H)
	m.filter.SetWidth(max(10, m.width/2))
	m.fixSelection()
}

// render draws the whole screen, exactly width x height.
func (m Model) render() string {
	r := m.rects
	s := &m.styles
	var body string
	if r.Table.W > 0 && r.Table.H > 0 {
		rows := m.rows()
		empty := "waiting for the inspection to start…"
		if m.report != nil {
			empty = "no backend matches the filter"
		}
		body = m.table.Render(tableData{
			Repos: m.reportRepos(), Targets: m.reportTargets(), Rows: rows,
			Cursor: m.cursor(rows), Jobs: m.remerges.jobs, Finished: m.remerges.finished, Empty: empty,
			Groups: legGroups(rows),
		}, s)
	}
	if r.Detail.W > 0 && r.Detail.H > 0 {
		pane := m.detail.Render(m.detailData(), s)
		if body == "" {
			body = pane
		} else {
			body = lipgloss.JoinHorizontal(lipgloss.Top, body, pane)
		}
	}
	parts := []string{
		fitBlock(m.header(), m.width, r.Header.H),
		fitBlock(body, m.width, r.Table.H+max(0, r.Detail.H-r.Table.H)),
		fitBlock(m.statusLine(), m.width, r.Status.H),
		fitBlock(m.shortHelpView(), m.width, r.Help.H),
	}
	screen := fitBlock(strings.Join(parts, "\n"), m.width, m.height)
	return m.overlay(screen)
}

func (m Model) reportRepos() []release.Repo {
	if m.report == nil {
		return nil
	}
	return m.report.Repos
}

func (m Model) reportTargets() []release.Repo {
	if m.report == nil {
		return nil
	}
	return targets(m.report)
}

func (m Model) detailData() detailData {
	b := m.selectedBackend()
	d := detailData{Backend: b, Repos: m.reportRepos()}
	if b != nil {
		d.Plan = m.plans[b.Suffix]
		if o, ok := m.remerges.outcomes[b.Suffix]; ok {
			d.Outcome = &o
		}
	}
	return d
}

// header is the release, the verdict counts, the probe progress and (when
// there is room) the repos.
func (m Model) header() string {
	s := &m.styles
	compact := m.rects.Compact
	title := s.Title.Render("remerge")
	if m.report == nil {
		return title + "  " + s.Muted.Render("starting…")
	}
	rel := m.report.Release
	id := " " + s.Bold.Render(rel.Ref)
	if rel.Run != "" {
		id += s.Muted.Render(" · run ") + rel.Run
		if !compact && strings.HasPrefix(rel.RunNote, "the newest") {
			id += s.Muted.Render(" (newest anchored)")
		}
	}
	if rel.SHA != "" {
		id += s.Muted.Render(" · sha ") + shortSHA(rel.SHA)
	}
	progress := fmt.Sprintf("probes %d/%d", m.probesDone, m.probesTotal)
	if m.inspecting {
		progress = "⟳ " + progress
	} else {
		progress = "✓ " + progress
	}
	line1 := joinEnds(title+id, s.Muted.Render(progress+pullsText(m.report)), m.width)

	line2 := m.countsLine()
	if compact {
		return line1 + "\n" + line2
	}
	var repos []string
	for _, rp := range m.report.Repos {
		repos = append(repos, shortRepo(rp)+" "+s.Muted.Render(rp.Repo))
	}
	return line1 + "\n" + line2 + "\n" + "repos: " + strings.Join(repos, s.Muted.Render(" · "))
}

// countsLine is the verdict counts on the left and the view state (sort,
// filters) on the right. The view state is never dropped: a long filter is
// cut first, then the counts lose their words (the symbols stay; ? has the
// legend).
func (m Model) countsLine() string {
	s := &m.styles
	sum, pending := summarize(m.report)
	counts := []struct {
		v release.Verdict
		n int
	}{
		{release.VerdictOK, sum.OK}, {release.VerdictRepairable, sum.Repairable},
		{release.VerdictUnrepairable, sum.Unrepairable}, {release.VerdictConflict, sum.Conflict},
		{release.VerdictUnknown, sum.Unknown}, {release.VerdictPending, pending},
	}
	var words, bare []string
	for _, c := range counts {
		if c.v == release.VerdictPending && c.n == 0 {
			continue // nothing left to wait for
		}
		g := verdictGlyph(c.v)
		st := s.verdict(c.v)
		words = append(words, st.Render(fmt.Sprintf("%s %d %s", g.Sym, c.n, g.Word)))
		bare = append(bare, st.Render(fmt.Sprintf("%s %d", g.Sym, c.n)))
	}
	short := strings.Join(bare, " ")
	right := m.viewState(m.width-ansi.StringWidth(short)-2, sum.NotBuilt)
	left := short
	for _, l := range []string{strings.Join(words, "  "), strings.Join(words, " ")} {
		if ansi.StringWidth(l)+2+ansi.StringWidth(right) <= m.width {
			left = l
			break
		}
	}
	return joinEnds(left, s.Muted.Render(right), m.width)
}

// viewState says which rows are shown: sort, broken-only, the notBuilt
// backends hidden, filter, in at most limit cells; the filter text is what
// gets cut.
func (m Model) viewState(limit, notBuilt int) string {
	st := []string{"sort " + m.sort.String()}
	if m.brokenOnly {
		st = append(st, "broken only")
	}
	if notBuilt > 0 && !m.showNotBuilt {
		st = append(st, fmt.Sprintf("%d not built hidden (a)", notBuilt))
	}
	out := strings.Join(st, " · ")
	if f := m.filter.Value(); f != "" && !m.filtering {
		room := limit - ansi.StringWidth(out) - len(` · filter ""`)
		if room < 2 {
			room = 2
		}
		out += fmt.Sprintf(" · filter %q", ansi.Truncate(f, room, "…"))
	}
	return out
}

// statusLine is the filter's input while filtering, else the status bar.
func (m Model) statusLine() string {
	if m.filtering {
		return m.filter.View()
	}
	return m.statusBar.render(m.selected, m.width, &m.styles)
}

// statusLines is how many lines the status line needs (one or two).
func (m Model) statusLines() int {
	if m.filtering {
		return 1
	}
	return m.statusBar.lines(m.selected, m.width)
}

// joinEnds puts left and right on one line of width w, right-aligned when
// they fit, left alone otherwise.
func joinEnds(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 2 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
