package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/report"
)

// helpScreen is the ? screen: every key, then the legend of every glyph
// the table draws (the same glyphs as the CLI's table, from
// internal/glyphs). It is a modal, so it fits and scrolls at 80x24 like
// the other boxes.
type helpScreen struct{ modal }

// box lays the help out for the screen e describes.
func (h helpScreen) box(e env) modalBox {
	inner := modalInner(e.width, 100)
	hm := e.help
	hm.SetWidth(inner)
	body := strings.Split(hm.FullHelpView(e.keys.FullHelp()), "\n")
	body = append(body, "", e.styles.Section.Render("Glyphs"))
	body = append(body, legendLine("verdicts ", glyphs.VerdictLegend()))
	body = append(body, legendLine("cells    ", glyphs.CellLegend()))
	body = append(body, legendLine("tags     ", glyphs.TagLegend()))
	body = append(body, legendLine("         ", []string{glyphs.UserFacing.Legend()}))
	body = append(body, legendLine("signed   ", report.SignatureLegend))
	body = append(body, e.styles.Muted.Render("A signature mark follows a complete release tag's symbol: ✓∅ is complete and unsigned."))
	body = append(body, e.styles.Muted.Render("Narrow screens show verdicts and tag states as their symbol alone."))
	return layoutModal(e.width, e.height, 100, "Keys and glyphs", body)
}

// Update closes the help (?, esc, q) or scrolls it.
func (h helpScreen) Update(msg tea.KeyPressMsg, e env) (dialog, dialogAction) {
	if key.Matches(msg, e.keys.Help) || key.Matches(msg, e.keys.Cancel) || key.Matches(msg, e.keys.Quit) {
		return h, actionClose{}
	}
	h.scrollKey(msg, e.keys, h.box(e))
	return h, nil
}

// Render draws the help for the screen e describes.
func (h helpScreen) Render(e env) string {
	return h.render(h.box(e), e.styles.Muted.Render("?/esc close"), e.styles)
}

// legendLine joins legend items so that wrapping never separates a glyph
// from its word: inside an item the spaces are no-break spaces.
func legendLine(prefix string, items []string) string {
	glued := make([]string, len(items))
	for i, it := range items {
		glued[i] = strings.ReplaceAll(it, " ", "\u00a0")
	}
	return prefix + strings.Join(glued, "  ")
}

// shortHelpView is the one-line help, fitted to the width by dropping
// entries in shortHelpDrop's order: "? help" and "q quit" stay visible on
// any screen.
func (m Model) shortHelpView() string {
	bindings := m.keys.ShortHelp()
	h := m.help
	h.SetWidth(0) // measure untruncated
	for _, drop := range m.keys.shortHelpDrop() {
		if ansi.StringWidth(h.ShortHelpView(bindings)) <= m.width {
			break
		}
		bindings = without(bindings, drop)
	}
	return cutLine(h.ShortHelpView(bindings), m.width)
}

func without(bs []key.Binding, drop key.Binding) []key.Binding {
	out := bs[:0:0]
	for _, b := range bs {
		if b.Help() != drop.Help() {
			out = append(out, b)
		}
	}
	return out
}
