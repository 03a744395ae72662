package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// table is the backend grid: one row per backend, one cell per (leg, repo)
// and one published state per target. It is a plain struct: the root model
// sizes it, moves its scroll offset and hands it the rows to draw.
type table struct {
	width, height int
	offset        int
}

// tableData is what one render of the table needs.
type tableData struct {
	Repos   []release.Repo
	Targets []release.Repo
	Rows    []*release.BackendReport
	Cursor  int
	Jobs    map[string]jobState
	// Finished: re-merges done since the last inspection, and whether
	// each worked.
	Finished map[string]bool
	Empty    string // shown when there are no rows
	// Groups are the leg columns (legGroups); nil is LocalAI's two.
	Groups []string
}

// groups is the leg columns of this render.
func (d tableData) groups() []string {
	if d.Groups == nil {
		return defaultLegGroups
	}
	return d.Groups
}

// tableHeaderLines is the two header lines: group labels, column labels.
const tableHeaderLines = 2

// SetSize gives the table its rectangle.
func (t *table) SetSize(w, h int) { t.width, t.height = w, h }

// pageSize is how many rows fit under the header.
func (t *table) pageSize() int { return max(1, t.height-tableHeaderLines) }

// follow scrolls so that the cursor row is visible.
func (t *table) follow(cursor, n int) {
	page := t.pageSize()
	if cursor < t.offset {
		t.offset = cursor
	}
	if cursor >= t.offset+page {
		t.offset = cursor - page + 1
	}
	t.offset = max(0, min(t.offset, n-page))
}

// columns are the widths of one render. kind is 0 when the kind column is
// dropped; verdWords and tagWords say whether verdicts and tag states are
// written out or drawn as their symbol alone (the ? legend explains it).
// Words are never abbreviated: a cut word reads as a typo.
type columns struct {
	suffix, kind, verd int
	verdWords          bool
	repo               []int // one per repo, within a leg group
	target             []int // one per target
	tagWords           bool
	groups             int // leg columns
}

func (c columns) legWidth() int {
	w := 0
	for _, r := range c.repo {
		w += r + 1
	}
	return max(w-1, 0)
}

func (c columns) targetsWidth() int {
	w := 0
	for _, t := range c.target {
		w += t + 1
	}
	return max(w-1, 0)
}

// fixed is the width of everything but the suffix column.
func (c columns) fixed() int {
	kind := 0
	if c.kind > 0 {
		kind = c.kind + 1
	}
	// Each target cell ends in a space: + 1.
	return 2 + 1 + kind + c.verd + 1 + c.groups*(c.legWidth()+2) + c.targetsWidth() + 1
}

// columns picks the first layout, richest first, that keeps the longest
// suffix whole (the suffix is the backend's identity): the kind column
// goes first, then the repo labels shrink, then tag states and verdicts
// fall back to their symbols. Target names stay whole while anything else
// can give way.
func (t *table) columns(d tableData) columns {
	longest := 8
	for _, b := range d.Rows {
		longest = max(longest, ansi.StringWidth(b.Suffix))
	}
	build := func(kind int, verdWords bool, repoLimit int, tagWords bool, targetLimit int) columns {
		c := columns{kind: kind, verd: 14, verdWords: verdWords, tagWords: tagWords, groups: len(d.groups())}
		if !verdWords {
			c.verd = 2 // "✓ ", "⟳ ": a symbol, and the job glyphs
		}
		for _, rp := range d.Repos {
			c.repo = append(c.repo, max(1, min(repoLimit, ansi.StringWidth(shortRepo(rp)))))
		}
		for _, tg := range d.Targets {
			w := 3 // "✓ ⚑"
			if tagWords {
				w = 12 // "⚯ dangling ⚑"
			}
			c.target = append(c.target, max(w, min(targetLimit, ansi.StringWidth(shortRepo(tg)))))
		}
		return c
	}
	type try struct {
		kind      int
		verdWords bool
		repoLimit int
		tagWords  bool
		tgtLimit  int
	}
	tries := []try{
		{9, true, 9, true, 16},
		{0, true, 9, true, 16},
		{0, true, 3, true, 16},
		{0, true, 3, false, 16},
		{0, false, 3, false, 16},
		{0, false, 1, false, 5},
	}
	for i, tr := range tries {
		c := build(tr.kind, tr.verdWords, tr.repoLimit, tr.tagWords, tr.tgtLimit)
		if t.width-c.fixed() < longest {
			continue
		}
		// Widen the repo labels again as far as the room allows.
		for lim := 9; lim > tr.repoLimit; lim-- {
			if w := build(tr.kind, tr.verdWords, lim, tr.tagWords, tr.tgtLimit); t.width-w.fixed() >= longest {
				c = w
				break
			}
		}
		c.suffix = longest
		if i < 2 {
			c.suffix = min(t.width-c.fixed(), max(longest, 36)) // wide: spread out
		}
		return c
	}
	c := build(0, false, 1, false, 5)
	c.suffix = max(8, t.width-c.fixed()) // a pathologically narrow screen
	return c
}

// Render draws the header and the visible rows, exactly t.height lines.
func (t *table) Render(d tableData, s *Styles) string {
	c := t.columns(d)
	lines := t.header(d, c, s)
	if len(d.Rows) == 0 {
		lines = append(lines, s.Muted.Render("  "+d.Empty))
	}
	end := min(len(d.Rows), t.offset+t.pageSize())
	for i := t.offset; i < end; i++ {
		lines = append(lines, t.row(d, c, d.Rows[i], i == d.Cursor, s))
	}
	return fitBlock(strings.Join(lines, "\n"), t.width, t.height)
}

func (t *table) header(d tableData, c columns, s *Styles) []string {
	lead := strings.Repeat(" ", 2+c.suffix+1+c.verd+1)
	if c.kind > 0 {
		lead += strings.Repeat(" ", c.kind+1)
	}
	group := func(label string, w int) string {
		if w < 3 {
			return pad("", w)
		}
		return pad(label+" "+strings.Repeat("─", max(0, w-ansi.StringWidth(label)-1)), w)
	}
	tags := "release tag"
	if c.targetsWidth() < len(tags)+2 {
		tags = "tag"
	}
	l1 := lead
	for _, g := range d.groups() {
		l1 += group(g, c.legWidth()) + "  "
	}
	l1 += group(tags, c.targetsWidth())
	var l2 strings.Builder
	l2.WriteString("  " + pad("backend", c.suffix) + " ")
	if c.kind > 0 {
		l2.WriteString(pad("kind", c.kind) + " ")
	}
	if c.verdWords {
		l2.WriteString(pad("verdict", c.verd) + " ")
	} else {
		l2.WriteString(pad("", c.verd) + " ")
	}
	for range d.groups() {
		for i, rp := range d.Repos {
			l2.WriteString(label(shortRepo(rp), c.repo[i]) + " ")
		}
		l2.WriteString(" ")
	}
	for i, tg := range d.Targets {
		l2.WriteString(label(shortRepo(tg), c.target[i]) + " ")
	}
	return []string{s.ColumnHeader.Render(l1), s.ColumnHeader.Render(l2.String())}
}

// row draws one backend. The selected row is drawn without inner styles and
// wrapped in the selection style, so that the highlight is one unbroken bar
// (and reverse video without colour).
func (t *table) row(d tableData, c columns, b *release.BackendReport, selected bool, s *Styles) string {
	st := func(style lipgloss.Style, text string) string {
		if selected {
			return text
		}
		return style.Render(text)
	}
	var out strings.Builder
	if selected {
		out.WriteString("▸ ")
	} else {
		out.WriteString("  ")
	}
	out.WriteString(pad(b.Suffix, c.suffix) + " ")
	if c.kind > 0 {
		out.WriteString(st(s.Muted, pad(string(b.Kind), c.kind)) + " ")
	}
	job, busy := d.Jobs[b.Suffix]
	vtext, vstyle := verdictCell(d, b, s)
	if !c.verdWords { // the symbol alone; the header counts say the words
		vtext, _, _ = strings.Cut(vtext, " ")
	}
	out.WriteString(st(vstyle, pad(vtext, c.verd)) + " ")
	for _, leg := range legSlotsIn(b, d.groups()) {
		if leg == nil {
			word := "single"
			switch {
			case b.Kind == release.KindDarwin:
				word = "darwin"
			case b.Kind == release.KindMultiarch:
				word = "no leg" // a one-leg entry (amd64 only)
			}
			out.WriteString(st(s.Muted, pad(word, c.legWidth())) + "  ")
			continue
		}
		for i, rp := range d.Repos {
			// Not probed for this kind (the anchor of a darwin image) draws
			// as "-", never as pending, which would never resolve.
			cell, ok := leg.Cells[rp.Repo]
			out.WriteString(st(s.cell(cell.State), pad(glyphs.ProbedCell(cell, ok).Sym, c.repo[i])) + " ")
		}
		out.WriteString(" ")
	}
	for ti, tg := range d.Targets {
		ts := b.Targets[tg.Name]
		state := release.TagPending
		if ts != nil && ts.State != "" {
			state = ts.State
		}
		g := tagGlyph(state)
		// The signature mark follows the state's symbol: "✓∅ complete".
		sym, marked := g.Sym, false
		if m, ok := report.SignatureMark(ts); ok {
			sym, marked = g.Sym+m.Sym, true
		}
		text, sep := sym+" "+g.Word, " "
		if !c.tagWords {
			text = sym
			if marked {
				sep = "" // symbols only: keep the column narrow
			}
		}
		if userFacingBroken(b, tg.Name) {
			text += sep + staleMark
		}
		out.WriteString(st(s.tag(state), pad(text, c.target[ti])) + " ")
	}
	if busy && job.Running {
		out.WriteString(st(s.Info, progressText(job.Progress)))
	}
	line := fitLine(out.String(), t.width)
	if selected {
		return s.Selected.Render(line)
	}
	return line
}

// verdictCell is the verdict column of b's row: its re-merge while one is
// queued or running, how the last one ended until the re-inspection, else
// the verdict.
func verdictCell(d tableData, b *release.BackendReport, s *Styles) (string, lipgloss.Style) {
	job, busy := d.Jobs[b.Suffix]
	ok, done := d.Finished[b.Suffix]
	switch {
	case busy && job.Running:
		return fmt.Sprintf("⟳ %d/%d", job.Progress.Step, job.Progress.Steps), s.Info
	case busy:
		return "⧗ queued", s.Info
	case done && ok:
		return "✓ merged", s.verdict(release.VerdictOK)
	case done:
		return "✗ failed", s.verdict(release.VerdictUnrepairable)
	}
	vg := verdictGlyph(b.Verdict)
	return vg.Sym + " " + vg.Word, s.verdict(b.Verdict)
}

// progressText is a re-merge step for the row and the status line.
func progressText(p Progress) string {
	txt := p.Text
	if p.TotalBytes > 0 {
		txt += fmt.Sprintf(" %s/%s", humanize.IBytes(uint64(p.Bytes)), humanize.IBytes(uint64(p.TotalBytes)))
	}
	return strings.TrimSpace(txt)
}

// pad truncates s (with an ellipsis) or right-pads it to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// label cuts a column label to w cells without an ellipsis: "anc", "qua"
// read better than "an…", "qu…" in a three-cell column.
func label(s string, w int) string {
	return pad(ansi.Truncate(s, w, ""), w)
}

// fitLine makes a line exactly w cells wide.
func fitLine(s string, w int) string { return pad(s, w) }

// fitBlock makes a block exactly w x h cells: every line fitted, missing
// lines blank, extra lines dropped. The view is built from fitted blocks so
// a resize never leaves garbage behind.
func fitBlock(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fitLine(l, w)
	}
	return strings.Join(lines, "\n")
}
