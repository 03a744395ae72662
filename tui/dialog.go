package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// confirmDialog asks before a re-merge writes anything. It never acts by
// itself: Update returns a typed action that the root model carries out.
type confirmDialog struct {
	// Suffixes are the backends to re-merge, side by side.
	Suffixes []string
	// All is true for "re-merge every repairable backend".
	All bool
	modal
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

// Update interprets one key; nil means the key did nothing or only
// scrolled the box, laid out as b.
func (d *confirmDialog) Update(msg tea.KeyPressMsg, km KeyMap, p *planState, b modalBox) dialogAction {
	switch {
	case key.Matches(msg, km.Cancel):
		return actionCancel{}
	case key.Matches(msg, km.Confirm) && d.canConfirm(p):
		return actionConfirm{Suffixes: d.Suffixes}
	}
	d.scrollKey(msg, km, b)
	return nil
}

// box lays the dialog out for a screen of width x height.
func (d *confirmDialog) box(width, height int, p *planState, s *Styles) modalBox {
	var title string
	var body []string
	if d.All {
		title = fmt.Sprintf("Re-merge %d repairable backend(s)?", len(d.Suffixes))
		body = append(body, "They run side by side, up to 8 at once; each row shows its own end, and the release is re-inspected after the last.")
		list := strings.Join(d.Suffixes, " ")
		if len(d.Suffixes) == 0 {
			list = "(no repairable backend)"
		}
		body = append(body, "", s.Muted.Render(list))
	} else {
		title = "Re-merge " + d.Suffixes[0] + "?"
		body = planLines(p, s)
	}
	return layoutModal(width, height, 100, title, body)
}

// Render draws the dialog box for a screen of width x height; the root
// centres it over the body.
func (d *confirmDialog) Render(width, height int, p *planState, km KeyMap, s *Styles) string {
	h := help.New()
	h.Styles = s.Help
	keys := h.ShortHelpView(dialogKeys{KeyMap: km, canConfirm: d.canConfirm(p)}.ShortHelp())
	return d.render(d.box(width, height, p, s), keys, s)
}
