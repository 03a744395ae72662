package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// modal is the frame every box over the screen shares (the re-merge
// confirmation, the release pane): a title, a body that scrolls when the
// screen is short, and a key line that is always visible, so at 80x24 a
// long plan never pushes "y/enter confirm" off the screen.
type modal struct {
	// offset is the first body line shown.
	offset int
}

// modalBox is one render of a modal: the frame's parts, already wrapped.
type modalBox struct {
	title string
	body  []string // wrapped to the inner width
	rows  int      // body lines that fit
	inner int      // inner width
	width int      // outer width
}

// layoutModal wraps title and body for a screen of width x height, in a
// box at most maxW wide.
func layoutModal(width, height, maxW int, title string, body []string) modalBox {
	inner := modalInner(width, maxW)
	w := inner + 4 // border and padding
	b := modalBox{title: cutLine(title, inner), inner: inner, width: w}
	b.body = wrapLines(body, inner, cutWord)
	// Height: border 2, title and a blank 2, a blank and the keys 2; the
	// box leaves the screen's first and last lines alone.
	b.rows = max(1, min(len(b.body), height-2-2-4))
	return b
}

// modalInner is the text width of a box at most maxW wide on a screen
// width cells wide.
func modalInner(width, maxW int) int { return max(12, min(width-2, maxW)) - 4 }

// maxOffset is how far the body can scroll.
func (b modalBox) maxOffset() int { return max(0, len(b.body)-b.rows) }

// scroll moves the body by n lines within b.
func (m *modal) scroll(n int, b modalBox) {
	m.offset = max(0, min(m.offset+n, b.maxOffset()))
}

// scrollKey moves the body for the movement keys; it reports whether the
// key was one of them.
func (m *modal) scrollKey(msg tea.KeyPressMsg, km KeyMap, b modalBox) bool {
	switch {
	case key.Matches(msg, km.Up):
		m.scroll(-1, b)
	case key.Matches(msg, km.Down):
		m.scroll(1, b)
	case key.Matches(msg, km.PageUp):
		m.scroll(-b.rows, b)
	case key.Matches(msg, km.PageDown):
		m.scroll(b.rows, b)
	case key.Matches(msg, km.Home):
		m.scroll(-len(b.body), b)
	case key.Matches(msg, km.End):
		m.scroll(len(b.body), b)
	default:
		return false
	}
	return true
}

// render draws the box: the key line is last and never cut off; when the
// body scrolls the key line says so and which lines are shown.
func (m modal) render(b modalBox, keys string, s *Styles) string {
	off := max(0, min(m.offset, b.maxOffset()))
	lines := []string{s.DialogTitle.Render(b.title), ""}
	lines = append(lines, b.body[off:off+b.rows]...)
	if b.maxOffset() > 0 {
		keys += s.Muted.Render(fmt.Sprintf(" • ↑/↓ pgup/pgdn scroll (%d-%d of %d)", off+1, off+b.rows, len(b.body)))
	}
	lines = append(lines, "", cutLine(keys, b.inner))
	return s.Dialog.Width(b.width).Render(strings.Join(lines, "\n"))
}
