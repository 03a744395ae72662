package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/report"
)

// detail is the pane that tells everything about one backend: digests and
// where they came from, every cell with the registry's own error text, every
// tag and what it points to, problems, impact and the re-merge plan.
type detail struct {
	width, height int
	offset        int
	lines         int // lines of the last content, to bound scrolling
}

// detailData is what one render of the pane needs.
type detailData struct {
	Backend *inspect.BackendReport
	Repos   []inspect.Repo
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

// measure records the content length so that scroll can clamp.
func (d *detail) measure(data detailData, s *Styles) {
	d.lines = len(d.wrapped(data, s))
	d.scroll(0)
}

// wrapped is the content cut to the pane's inner width.
func (d *detail) wrapped(data detailData, s *Styles) []string {
	w := max(1, d.width-4) // border and padding
	var out []string
	for _, l := range d.content(data, s) {
		out = append(out, hangingWrap(l, w)...)
	}
	return out
}

// hangingWrap wraps l to w cells, continuing under the text rather than
// under the margin: a bullet's second line starts below its first word, so
// it cannot be read as a new item. Very deep indents wrap plainly.
func hangingWrap(l string, w int) []string {
	plain := ansi.Strip(l)
	indent := len(plain) - len(strings.TrimLeft(plain, " "))
	if rest := plain[indent:]; strings.HasPrefix(rest, "• ") {
		indent += 2
	}
	if indent == 0 || indent > w/2 || ansi.StringWidth(l) <= w {
		return strings.Split(lipgloss.Wrap(l, w, ""), "\n")
	}
	lines := strings.Split(lipgloss.Wrap(ansi.TruncateLeft(l, indent, ""), w-indent, ""), "\n")
	pad := strings.Repeat(" ", indent)
	for i := range lines {
		if i == 0 {
			lines[i] = ansi.Cut(l, 0, indent) + lines[i]
		} else {
			lines[i] = pad + lines[i]
		}
	}
	return lines
}

// Render draws the pane in a border, exactly width x height.
func (d *detail) Render(data detailData, s *Styles) string {
	w := max(1, d.width-4)
	wrapped := d.wrapped(data, s)
	start := min(d.offset, max(0, len(wrapped)-1))
	body := fitBlock(strings.Join(wrapped[start:], "\n"), w, d.inner())
	return s.PaneBorder.Width(d.width).Height(d.height).Render(body)
}

func (d *detail) content(data detailData, s *Styles) []string {
	b := data.Backend
	if b == nil {
		return []string{s.Muted.Render("no backend selected")}
	}
	vg := verdictGlyph(b.Verdict)
	out := []string{
		s.Title.Render(b.Suffix) + "  " + s.verdict(b.Verdict).Render(vg.Sym+" "+vg.Word),
	}
	meta := string(b.Kind)
	if b.Name != "" {
		meta = b.Name + " · " + meta
	}
	out = append(out, s.Muted.Render(meta))
	out = appendList(out, s, "Problems", b.Problems)
	out = appendList(out, s, "Impact", b.Impact)
	out = append(out, "", s.Section.Render("Re-merge plan"))
	out = append(out, planLines(data.Plan, s)...)
	if o := data.Outcome; o != nil {
		out = append(out, "", s.Section.Render("Last re-merge"))
		style := s.Good
		if !o.OK {
			style = s.StatusErr
		}
		for _, l := range strings.Split(strings.TrimRight(o.Text, "\n"), "\n") {
			out = append(out, style.Render(l))
		}
	}

	out = append(out, "", s.Section.Render("Legs"))
	for _, l := range b.Legs {
		dg := l.Digest
		if dg == "" {
			dg = "(no digest known)"
		}
		out = append(out, fmt.Sprintf("%s %s", s.Bold.Render(l.PlatformTag), s.Muted.Render(l.Platform)))
		out = append(out, "  "+dg)
		if l.DigestFrom != "" {
			out = append(out, s.Muted.Render("  from "+string(l.DigestFrom)))
		}
		for _, rp := range data.Repos {
			cell, ok := l.Cells[rp.Repo]
			if !ok {
				continue // not probed for this kind of backend
			}
			g := cellGlyph(cell.State)
			line := fmt.Sprintf("  %s %-8s %s", s.cell(cell.State).Render(g.Sym), g.Word, rp.Repo)
			out = append(out, line)
			if cell.Error != "" {
				out = append(out, s.StatusErr.Render("      "+cell.Error))
			}
			if len(cell.MissingBlobs) > 0 {
				out = append(out, s.Warn.Render(fmt.Sprintf("      %d blob(s) not linked", len(cell.MissingBlobs))))
			}
		}
	}
	out = append(out, "", s.Section.Render("Targets"))
	for _, name := range sortedKeys(b.Targets) {
		t := b.Targets[name]
		g := tagGlyph(t.State)
		out = append(out, fmt.Sprintf("%s %s %s %s", s.Bold.Render(name), s.tag(t.State).Render(g.Sym), g.Word, s.Muted.Render(t.Repo)))
		for _, tag := range sortedKeys(t.Tags) {
			ts := t.Tags[tag]
			tg := tagGlyph(ts.State)
			line := fmt.Sprintf("  %s %s %s", s.tag(ts.State).Render(tg.Sym), tag, s.Muted.Render("("+ts.Role+", "+tg.Word+")"))
			out = append(out, line)
			if ts.Digest != "" {
				form := ""
				if ts.Form != "" {
					form = s.Muted.Render(" (" + ts.Form + ")")
				}
				out = append(out, "  → "+ts.Digest+form)
			}
			if ts.Provenance != nil && !ts.Provenance.Empty() {
				out = append(out, s.Muted.Render("    holds "+ts.Provenance.String()))
			}
			if ts.Newer != "" {
				out = append(out, s.Muted.Render("    already on "+ts.Newer+": left alone"))
			}
			if ts.Reason != "" && ts.State != inspect.TagComplete {
				out = append(out, s.Warn.Render("    "+ts.Reason))
			}
			for _, c := range ts.Children {
				if c != ts.Digest {
					out = append(out, s.Muted.Render("    "+c))
				}
			}
			if ts.Error != "" {
				out = append(out, s.StatusErr.Render("    "+ts.Error))
			}
			out = append(out, signatureLines(ts.Signature, s)...)
		}
	}
	return out
}

func appendList(out []string, s *Styles, title string, items []string) []string {
	if len(items) == 0 {
		return out
	}
	out = append(out, "", s.Section.Render(title))
	for _, it := range items {
		out = append(out, "  • "+it)
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
func signatureLines(sig *inspect.Signature, s *Styles) []string {
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
		if c := sig.Children[d]; c.State != inspect.SigSigned {
			line := "      child " + d + " " + string(c.State)
			if c.Error != "" {
				line += ": " + c.Error
			}
			out = append(out, s.Warn.Render(line))
		}
	}
	return out
}
