package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// detail is the pane that tells everything about one backend: digests and
// where they came from, every cell with the registry's own error text, every
// tag and what it points to, problems, impact and the re-merge plan.
type detail struct {
	width, height int
	offset        int
	lines         int // lines of the last content, to bound scrolling
	// xoff scrolls the unwrapped lines (the cosign commands) sideways;
	// wide is the widest of them, to bound it.
	xoff, wide int
}

// dline is one line of the pane's content; a nowrap line (a command to
// copy) is never wrapped, it scrolls sideways instead.
type dline struct {
	text   string
	nowrap bool
}

// dlines builds the pane's content.
type dlines []dline

func (d *dlines) add(ls ...string) {
	for _, l := range ls {
		*d = append(*d, dline{text: l})
	}
}

func (d *dlines) addNowrap(l string) { *d = append(*d, dline{text: l, nowrap: true}) }

// detailData is what one render of the pane needs.
type detailData struct {
	Backend *release.BackendReport
	Repos   []release.Repo
	Plan    *planState
	Outcome *Outcome
}

// SetSize gives the pane its rectangle, border included.
func (d *detail) SetSize(w, h int) { d.width, d.height = w, h }

// scroll moves the content by n lines, clamped to the content.
func (d *detail) scroll(n int) {
	d.offset = max(0, min(d.offset+n, d.lines-d.inner()))
}

func (d *detail) inner() int { return max(1, d.height-2) }

// measure records the content length and width so that scroll can clamp.
func (d *detail) measure(data detailData, s *Styles) {
	d.lines = len(d.wrapped(data, s))
	d.scroll(0)
	d.scrollX(0)
}

// scrollX moves the unwrapped lines sideways by n cells, clamped.
func (d *detail) scrollX(n int) {
	d.xoff = max(0, min(d.xoff+n, d.wide-d.textWidth()))
}

func (d *detail) textWidth() int { return max(1, d.width-4) } // border and padding

// wrapped is the content cut to the pane's inner width: wrapped at spaces,
// a word longer than a line continued on the next (the pane is where long
// words are shown whole), commands scrolled by xoff instead.
func (d *detail) wrapped(data detailData, s *Styles) []string {
	w := d.textWidth()
	var out []string
	d.wide = 0
	for _, l := range d.content(data, s) {
		if !l.nowrap {
			out = append(out, wrapLine(l.text, w, breakWord)...)
			continue
		}
		lw := ansi.StringWidth(l.text)
		d.wide = max(d.wide, lw)
		line := ansi.Cut(l.text, d.xoff, d.xoff+w)
		if d.xoff > 0 {
			line = "…" + ansi.Cut(line, 1, w)
		}
		if lw > d.xoff+w {
			line = ansi.Cut(line, 0, w-1) + "…"
		}
		out = append(out, line)
	}
	return out
}

// Render draws the pane in a border, exactly width x height.
func (d *detail) Render(data detailData, s *Styles) string {
	w := d.textWidth()
	wrapped := d.wrapped(data, s)
	start := min(d.offset, max(0, len(wrapped)-1))
	body := fitBlock(strings.Join(wrapped[start:], "\n"), w, d.inner())
	return s.PaneBorder.Width(d.width).Height(d.height).Render(body)
}

func (d *detail) content(data detailData, s *Styles) dlines {
	b := data.Backend
	if b == nil {
		return dlines{{text: s.Muted.Render("no backend selected")}}
	}
	vg := verdictGlyph(b.Verdict)
	var out dlines
	out.add(s.Title.Render(b.Suffix) + "  " + s.verdict(b.Verdict).Render(vg.Sym+" "+vg.Word))
	meta := string(b.Kind)
	if b.Name != "" {
		meta = b.Name + " · " + meta
	}
	out.add(s.Muted.Render(meta))
	out.list(s, "Problems", b.Problems)
	out.list(s, "Impact", b.Impact)
	out.add("", s.Section.Render("Re-merge plan"))
	out.add(planLines(data.Plan, s)...)
	if o := data.Outcome; o != nil {
		out.add("", s.Section.Render("Last re-merge"))
		style := s.Good
		if !o.OK {
			style = s.StatusErr
		}
		out.outcome(o, style, s)
	}

	out.legs(data, s)
	out.targets(data, s)
	return out
}

// legs adds each leg's digest, where it came from, and its cell in every
// repo it is probed in.
func (out *dlines) legs(data detailData, s *Styles) {
	b := data.Backend
	out.add("", s.Section.Render("Legs"))
	for _, l := range b.Legs {
		dg := l.Digest
		if dg == "" {
			dg = "(no digest known)"
		}
		out.add(fmt.Sprintf("%s %s", s.Bold.Render(l.PlatformTag), s.Muted.Render(l.Platform)))
		out.add("  " + dg)
		if l.DigestFrom != "" {
			out.add(s.Muted.Render("  from " + string(l.DigestFrom)))
		}
		for _, rp := range data.Repos {
			cell, ok := l.Cells[rp.Repo]
			if !ok {
				continue // not probed for this kind of backend
			}
			g := cellGlyph(cell.State)
			line := fmt.Sprintf("  %s %-8s %s", s.cell(cell.State).Render(g.Sym), g.Word, rp.Repo)
			out.add(line)
			if cell.Error != "" {
				out.add(s.StatusErr.Render("      " + cell.Error))
			}
			if len(cell.MissingBlobs) > 0 {
				out.add(s.Warn.Render(fmt.Sprintf("      %d blob(s) not linked", len(cell.MissingBlobs))))
			}
		}
	}
}

// targets adds each target's state and every tag in it: what it points
// to, what it holds, and why it is not complete.
func (out *dlines) targets(data detailData, s *Styles) {
	b := data.Backend
	out.add("", s.Section.Render("Targets"))
	for _, name := range targetOrder(data.Repos, b.Targets) {
		t := b.Targets[name]
		g := tagGlyph(t.State)
		out.add(fmt.Sprintf("%s %s %s %s", s.Bold.Render(name), s.tag(t.State).Render(g.Sym), g.Word, s.Muted.Render(t.Repo)))
		for _, tag := range t.SortedTags() {
			ts := t.Tags[tag]
			tg := tagGlyph(ts.State)
			line := fmt.Sprintf("  %s %s %s", s.tag(ts.State).Render(tg.Sym), tag, s.Muted.Render("("+ts.Role+", "+tg.Word+")"))
			out.add(line)
			if ts.Digest != "" {
				form := ""
				if ts.Form != "" {
					form = s.Muted.Render(" (" + ts.Form + ")")
				}
				out.add("  → " + ts.Digest + form)
			}
			if ts.Provenance != nil && !ts.Provenance.Empty() {
				out.add(s.Muted.Render("    holds " + ts.Provenance.String()))
			}
			if ts.Newer != "" {
				out.add(s.Muted.Render("    already on " + ts.Newer + ": left alone"))
			}
			if ts.Reason != "" && ts.State != release.TagComplete {
				out.add(s.Warn.Render("    " + ts.Reason))
			}
			for _, c := range ts.Children {
				if c != ts.Digest {
					out.add(s.Muted.Render("    " + c))
				}
			}
			if ts.Error != "" {
				out.add(s.StatusErr.Render("    " + ts.Error))
			}
			out.add(signatureLines(ts.Signature, s)...)
		}
	}
}

func (d *dlines) list(s *Styles, title string, items []string) {
	if len(items) == 0 {
		return
	}
	d.add("", s.Section.Render(title))
	for _, it := range items {
		d.add("  • " + it)
	}
}

// outcome is the last re-merge's text, each cosign command on a line of its
// own that scrolls sideways rather than wrapping, so it can be read (and
// selected) whole.
func (d *dlines) outcome(o *Outcome, style lipgloss.Style, s *Styles) {
	for _, l := range strings.Split(strings.TrimRight(o.Text, "\n"), "\n") {
		cmd := ""
		for _, c := range o.Commands {
			if strings.Contains(l, c) {
				cmd = c
			}
		}
		if cmd == "" {
			d.add(style.Render(l))
			continue
		}
		if before := strings.TrimRight(strings.Replace(l, cmd, "", 1), " "); strings.TrimSpace(before) != "" {
			d.add(style.Render(before + " (below)"))
		}
	}
	if len(o.Commands) > 0 {
		d.add("", s.Section.Render("Sign")+s.Muted.Render("  ←/→ scroll · c copies all · e writes them to a file"))
		for _, c := range o.Commands {
			d.addNowrap(c)
		}
	}
}

// targetOrder lists the targets of a backend in the configuration's order
// (the table's columns), then any the configuration does not name.
func targetOrder(repos []release.Repo, targets map[string]*release.TargetStatus) []string {
	var out []string
	for _, rp := range repos {
		if _, ok := targets[rp.Name]; ok && rp.Role == release.RoleTarget && !slices.Contains(out, rp.Name) {
			out = append(out, rp.Name)
		}
	}
	for _, name := range sortedKeys(targets) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// planLines renders a cached plan for the pane and the dialog.
func planLines(p *planState, s *Styles) []string {
	switch {
	case p == nil || p.Loading:
		return []string{s.Muted.Render("computing the plan…")}
	case p.Err != nil:
		return []string{s.StatusErr.Render("plan failed: " + p.Err.Error())}
	case p.Plan.NoOp:
		return []string{s.Good.Render("nothing to do: already healthy")}
	}
	var out []string
	if !p.Plan.Runnable {
		out = append(out, s.Bad.Render("refused: "+p.Plan.Refusal))
	}
	if t := strings.TrimRight(p.Plan.Text, "\n"); t != "" {
		out = append(out, strings.Split(t, "\n")...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// signatureLines says who signed a complete tag's image, and which
// children are not signed, under the tag in the Targets section.
func signatureLines(sig *release.Signature, s *Styles) []string {
	if sig == nil {
		return nil
	}
	m := report.SigMark(sig)
	style := s.Good
	switch m {
	case report.MarkSigned:
	case report.MarkSigError:
		style = s.Info
	default:
		style = s.Warn
	}
	out := []string{"    " + style.Render(m.Sym) + " " + sig.Describe()}
	for _, d := range sortedKeys(sig.Children) {
		if c := sig.Children[d]; c.State != release.SigSigned {
			line := "      child " + d + " " + string(c.State)
			if c.Error != "" {
				line += ": " + c.Error
			}
			out = append(out, s.Warn.Render(line))
		}
	}
	return out
}
