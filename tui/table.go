package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/inspect"
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
	Repos   []inspect.Repo
	Targets []inspect.Repo
	Rows    []*inspect.BackendReport
	Cursor  int
	Jobs    map[string]jobState
	// Finished: re-merges done since the last inspection, and whether
	// each worked.
	Finished map[string]bool
	Empty    string // shown when there are no rows
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
// dropped; compact abbreviates verdicts, tag states and repo labels so that
// 80 columns suffice.
type columns struct {
	compact            bool
	suffix, kind, verd int
	repo               []int // one per repo, within a leg group
	target             int
}

func (c columns) legWidth() int {
	w := 0
	for _, r := range c.repo {
		w += r + 1
	}
	return max(w-1, 0)
}

// columns picks the widest layout that keeps the longest suffix whole:
// full words when they fit, else compact columns, widening the repo
// columns again as far as the room allows.
func (t *table) columns(d tableData) columns {
	longest := 8
	for _, b := range d.Rows {
		longest = max(longest, ansi.StringWidth(b.Suffix))
	}
	longest = min(longest, 36)
	fixed := func(c columns) int {
		return 2 + 1 + c.kind + 1 + c.verd + 1 + 2*(c.legWidth()+2) + len(d.Targets)*(c.target+1)
	}
	repoCols := func(limit int) []int {
		var out []int
		for _, rp := range d.Repos {
			out = append(out, max(1, min(limit, ansi.StringWidth(shortRepo(rp)))))
		}
		return out
	}
	for _, c := range []columns{
		{kind: 9, verd: 14, target: 12, repo: repoCols(9)},
		{verd: 14, target: 12, repo: repoCols(9)},
	} {
		if room := t.width - fixed(c) + boolInt(c.kind == 0); room >= longest {
			c.suffix = min(36, room)
			return c
		}
	}
	cp := columns{compact: true, verd: 8, target: 5}
	for limit := 9; limit >= 3; limit-- {
		cp.repo = repoCols(limit)
		if t.width-fixed(cp)+1 >= longest {
			break
		}
	}
	cp.suffix = max(8, min(longest, t.width-fixed(cp)+1))
	// Spare room goes to the target columns so their labels read whole
	// ("dockerhub", not "docke").
	widest := cp.target
	for _, tg := range d.Targets {
		widest = max(widest, ansi.StringWidth(shortRepo(tg)))
	}
	for cp.target < widest && t.width-fixed(cp)+1-len(d.Targets) >= cp.suffix {
		cp.target++
	}
	return cp
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
	if c.compact {
		tags = "tag"
	}
	l1 := lead + group("amd64", c.legWidth()) + "  " + group("arm64", c.legWidth()) + "  " +
		group(tags, len(d.Targets)*(c.target+1)-1)
	var l2 strings.Builder
	l2.WriteString("  " + pad("backend", c.suffix) + " ")
	if c.kind > 0 {
		l2.WriteString(pad("kind", c.kind) + " ")
	}
	l2.WriteString(pad("verdict", c.verd) + " ")
	for g := 0; g < 2; g++ {
		for i, rp := range d.Repos {
			l2.WriteString(label(shortRepo(rp), c.repo[i]) + " ")
		}
		l2.WriteString(" ")
	}
	for _, tg := range d.Targets {
		l2.WriteString(label(shortRepo(tg), c.target) + " ")
	}
	return []string{s.ColumnHeader.Render(l1), s.ColumnHeader.Render(l2.String())}
}

// row draws one backend. The selected row is drawn without inner styles and
// wrapped in the selection style, so that the highlight is one unbroken bar
// (and reverse video without colour).
func (t *table) row(d tableData, c columns, b *inspect.BackendReport, selected bool, s *Styles) string {
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
	vg := verdictGlyph(b.Verdict)
	vtext := vg.Sym + " " + vg.Word
	if c.compact {
		vtext = vg.Sym + " " + vg.Short
	}
	vstyle := s.verdict(b.Verdict)
	switch {
	case busy && job.Running:
		vtext, vstyle = fmt.Sprintf("⟳ %d/%d", job.Progress.Step, job.Progress.Steps), s.Info
	case busy:
		vtext, vstyle = "⧗ queued", s.Info
	default:
		if ok, done := d.Finished[b.Suffix]; done && ok {
			vtext, vstyle = "✓ merged", s.verdict(inspect.VerdictOK)
		} else if done {
			vtext, vstyle = "✗ failed", s.verdict(inspect.VerdictUnrepairable)
		}
	}
	out.WriteString(st(vstyle, pad(vtext, c.verd)) + " ")
	for _, leg := range legSlots(b) {
		if leg == nil {
			word := "single"
			switch {
			case b.Kind == inspect.KindDarwin:
				word = "darwin"
			case b.Kind == inspect.KindMultiarch:
				word = "no leg" // a one-leg entry (amd64 only)
			}
			out.WriteString(st(s.Muted, pad(word, c.legWidth())) + "  ")
			continue
		}
		for i, rp := range d.Repos {
			cell, ok := leg.Cells[rp.Repo]
			if !ok {
				// Not probed for this kind (the anchor of a darwin image):
				// blank, since a pending glyph would never resolve.
				out.WriteString(pad("", c.repo[i]) + " ")
				continue
			}
			out.WriteString(st(s.cell(cell.State), pad(cellGlyph(cell.State).Sym, c.repo[i])) + " ")
		}
		out.WriteString(" ")
	}
	for _, tg := range d.Targets {
		ts := b.Targets[tg.Name]
		state := inspect.TagPending
		if ts != nil && ts.State != "" {
			state = ts.State
		}
		g := tagGlyph(state)
		// The signature mark follows the state's symbol: "✓∅ complete".
		sym, sep := g.Sym, " "
		if m, ok := report.SignatureMark(ts); ok {
			sym, sep = g.Sym+m.Sym, ""
		}
		text := sym + " " + g.Word
		if c.compact {
			text, sep = sym, " "
		}
		if userFacingBroken(b, tg.Name) {
			text += sep + staleMark
		}
		out.WriteString(st(s.tag(state), pad(text, c.target)) + " ")
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
