package tui

import (
	"strings"
)

// statusBar is the line under the table: the last message about the
// release, or a message about one row, shown only while that row is
// selected so it never sits under another row as if it were about it. A
// long message takes a second line.
type statusBar struct {
	text string
	err  bool
	row  rowStatus
	// repairNote summarises the re-merges since the last inspection, kept
	// in front of the message once the re-inspection that follows them
	// ends.
	repairNote string
}

// rowStatus is a status message about one backend.
type rowStatus struct {
	suffix, text string
	err          bool
}

// set replaces the message, and any message about a row.
func (s *statusBar) set(text string, isErr bool) {
	s.text, s.err = text, isErr
	s.row = rowStatus{}
}

// setRow sets a message about backend suffix.
func (s *statusBar) setRow(suffix, text string, isErr bool) {
	s.row = rowStatus{suffix: suffix, text: text, err: isErr}
}

// current is the message shown while selected is the selected row.
func (s statusBar) current(selected string) (string, bool) {
	if s.row.text != "" && s.row.suffix == selected {
		return s.row.text, s.row.err
	}
	return s.text, s.err
}

// lines is how many lines the message needs at width (one or two).
func (s statusBar) lines(selected string, width int) int {
	text, _ := s.current(selected)
	return min(2, len(wrapLine(text, width, cutWord)))
}

// render draws the message at width in at most two lines; what does not
// fit the second is cut.
func (s statusBar) render(selected string, width int, styles *Styles) string {
	text, isErr := s.current(selected)
	style := styles.Status
	if isErr {
		style = styles.StatusErr
	}
	lines := wrapLine(text, width, cutWord)
	if len(lines) > 2 {
		rest := lines[1]
		for _, l := range lines[2:] {
			rest += " " + strings.TrimSpace(l)
		}
		lines = []string{lines[0], cutLine(rest, width)}
	}
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return strings.Join(lines, "\n")
}
