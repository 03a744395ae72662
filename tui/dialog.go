package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// confirmDialog asks before a re-merge writes anything. It never acts by
// itself: Update returns a typed action that the root model carries out.
// It shows the plan of its one backend from the root's cache, so a plan
// that arrives while it is open fills it in.
type confirmDialog struct {
	// Suffixes are the backends to re-merge, side by side.
	Suffixes []string
	// All is true for "re-merge every repairable backend".
	All bool
	modal
}

// plan is the plan the dialog shows: its backend's, for a single re-merge.
func (d confirmDialog) plan(e env) *planState {
	if d.All || len(d.Suffixes) == 0 {
		return nil
	}
	return e.plans[d.Suffixes[0]]
}

// canConfirm reports whether the dialog may start anything: a single
// re-merge only with a runnable plan that does something.
func (d confirmDialog) canConfirm(p *planState) bool {
	if d.All {
		return len(d.Suffixes) > 0
	}
	return p != nil && !p.Loading && p.Err == nil && p.Plan.Runnable && !p.Plan.NoOp
}

// Update interprets one key: cancel, confirm (only when canConfirm), or a
// scroll of the plan.
func (d confirmDialog) Update(msg tea.KeyPressMsg, e env) (dialog, dialogAction) {
	p := d.plan(e)
	switch {
	case key.Matches(msg, e.keys.Cancel):
		return d, actionClose{Status: "re-merge cancelled"}
	case key.Matches(msg, e.keys.Confirm) && d.canConfirm(p):
		return d, actionConfirm{Suffixes: d.Suffixes}
	}
	d.scrollKey(msg, e.keys, d.box(e.width, e.height, p, e.styles))
	return d, nil
}

// box lays the dialog out for a screen of width x height.
func (d confirmDialog) box(width, height int, p *planState, s *Styles) modalBox {
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

// Render draws the dialog box for the screen e describes.
func (d confirmDialog) Render(e env) string {
	p := d.plan(e)
	keys := e.help.ShortHelpView(dialogKeys{KeyMap: e.keys, canConfirm: d.canConfirm(p)}.ShortHelp())
	return d.render(d.box(e.width, e.height, p, e.styles), keys, e.styles)
}
