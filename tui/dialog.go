package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// confirmDialog asks before a re-merge writes anything. It never acts by
// itself: Update returns a typed action that the root model carries out.
type confirmDialog struct {
	// Suffixes are the backends to re-merge, one after the other.
	Suffixes []string
	// All is true for "re-merge every repairable backend".
	All bool
}

// dialogAction is what a key did in a dialog.
type dialogAction interface{ isDialogAction() }

// actionConfirm starts the re-merge of Suffixes.
type actionConfirm struct{ Suffixes []string }

// actionCancel closes the dialog.
type actionCancel struct{}

func (actionConfirm) isDialogAction() {}
func (actionCancel) isDialogAction()  {}

// canConfirm reports whether the dialog may start anything: a single
// re-merge only with a runnable plan that does something.
func (d *confirmDialog) canConfirm(p *planState) bool {
	if d.All {
		return len(d.Suffixes) > 0
	}
	return p != nil && !p.Loading && p.Err == nil && p.Plan.Runnable && !p.Plan.NoOp
}

// Update interprets one key; nil means the key did nothing.
func (d *confirmDialog) Update(msg tea.KeyPressMsg, km KeyMap, p *planState) dialogAction {
	switch {
	case key.Matches(msg, km.Cancel):
		return actionCancel{}
	case key.Matches(msg, km.Confirm) && d.canConfirm(p):
		return actionConfirm{Suffixes: d.Suffixes}
	}
	return nil
}

// Render draws the dialog box for a screen of width x height; the root
// centres it over the body.
func (d *confirmDialog) Render(width, height int, p *planState, km KeyMap, s *Styles) string {
	w := min(width-2, 90)
	inner := max(10, w-4)
	var lines []string
	if d.All {
		lines = append(lines, s.DialogTitle.Render(fmt.Sprintf("Re-merge %d repairable backend(s)?", len(d.Suffixes))), "")
		lines = append(lines, "They run one after the other; the release is re-inspected at the end.")
		list := strings.Join(d.Suffixes, " ")
		if len(d.Suffixes) == 0 {
			list = "(no repairable backend)"
		}
		lines = append(lines, "", s.Muted.Render(list))
	} else {
		lines = append(lines, s.DialogTitle.Render("Re-merge "+d.Suffixes[0]+"?"), "")
		lines = append(lines, planLines(p, s)...)
	}
	h := help.New()
	h.Styles = s.Help
	lines = append(lines, "", h.ShortHelpView(dialogKeys{KeyMap: km, canConfirm: d.canConfirm(p)}.ShortHelp()))
	var wrapped []string
	for _, l := range lines {
		wrapped = append(wrapped, strings.Split(lipgloss.Wrap(l, inner, ""), "\n")...)
	}
	maxLines := max(3, height-4)
	if len(wrapped) > maxLines {
		wrapped = append(wrapped[:maxLines-1], s.Muted.Render("… (full plan in the detail pane)"))
	}
	return s.Dialog.Width(w).Render(strings.Join(wrapped, "\n"))
}
