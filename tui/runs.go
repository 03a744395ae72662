package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// runPicker offers the CI runs anchored in the anchor repo (DESIGN.md
// section 4: without --run, group the keepalive tags by run id and offer the
// runs newest first). Like confirmDialog it never acts by itself: Update
// returns a typed action that the root model carries out.
type runPicker struct {
	// ID names the RunsMsg this picker waits for.
	ID      int
	Loading bool
	Runs    []release.AnchorRun
	// Current is the run the report on screen was inspected with.
	Current string
	Anchor  string
	Cursor  int
}

// canSelect reports whether enter has a run to pick.
func (p runPicker) canSelect() bool { return !p.Loading && len(p.Runs) > 0 }

// setRuns fills the picker with the runs of its answer and puts the cursor
// on the current run, so enter alone keeps things as they are.
func (p *runPicker) setRuns(runs []release.AnchorRun) {
	p.Loading, p.Runs, p.Cursor = false, runs, 0
	for i, r := range runs {
		if r.ID == p.Current {
			p.Cursor = i
		}
	}
}

// Update interprets one key: cancel, a cursor move, or picking the run
// under the cursor.
func (p runPicker) Update(msg tea.KeyPressMsg, e env) (dialog, dialogAction) {
	km := e.keys
	switch {
	case key.Matches(msg, km.Cancel):
		return p, actionClose{}
	case key.Matches(msg, km.Up):
		p.Cursor = max(0, p.Cursor-1)
	case key.Matches(msg, km.Down):
		p.Cursor = max(0, min(len(p.Runs)-1, p.Cursor+1))
	case key.Matches(msg, km.Select) && p.canSelect():
		return p, actionPickRun{Run: p.Runs[p.Cursor].ID}
	}
	return p, nil
}

// Render draws the picker box for the screen e describes. Long lists
// scroll to keep the cursor visible.
func (p runPicker) Render(e env) string {
	width, height, km, s := e.width, e.height, e.keys, e.styles
	w := min(width-2, 64)
	inner := max(10, w-4)
	title := "Runs anchored in the anchor repo"
	if p.Anchor != "" {
		title = "Runs anchored in " + p.Anchor
	}
	lines := []string{s.DialogTitle.Render(title), ""}
	switch {
	case p.Loading:
		lines = append(lines, s.Muted.Render("listing the anchor repo's tags…"))
	case len(p.Runs) == 0:
		lines = append(lines, s.Muted.Render("no keepalive tag there: no run to pick"))
	default:
		lines = append(lines, p.rows(max(1, height-10), s)...)
	}
	lines = append(lines, "", e.help.ShortHelpView(pickerKeys{KeyMap: km, canSelect: p.canSelect()}.ShortHelp()))
	return s.Dialog.Width(w).Render(strings.Join(wrapLines(lines, inner, cutWord), "\n"))
}

// rows are at most n lines of runs around the cursor: id, anchor count,
// and which run is the newest and which is on screen.
func (p runPicker) rows(n int, s *Styles) []string {
	idW := 0
	for _, r := range p.Runs {
		idW = max(idW, len(r.ID))
	}
	start := max(0, min(p.Cursor-n/2, len(p.Runs)-n))
	end := min(len(p.Runs), start+n)
	var out []string
	for i := start; i < end; i++ {
		r := p.Runs[i]
		var marks []string
		if i == 0 {
			marks = append(marks, "newest")
		}
		if r.ID == p.Current {
			marks = append(marks, "● on screen")
		}
		line := fmt.Sprintf("%-*s  %4d anchor%s", idW, r.ID, r.Anchors, plural(r.Anchors))
		if len(marks) > 0 {
			line += "  " + s.Muted.Render(strings.Join(marks, " · "))
		}
		if i == p.Cursor {
			out = append(out, s.Selected.Render("▸ "+line))
		} else {
			out = append(out, "  "+line)
		}
	}
	if end-start < len(p.Runs) {
		out = append(out, s.Muted.Render(fmt.Sprintf("  (%d-%d of %d runs)", start+1, end, len(p.Runs))))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// openRuns opens the run picker and asks the service for the runs. A
// re-merge in flight keeps the release it is re-merging on screen.
func (m Model) openRuns() (tea.Model, tea.Cmd) {
	if m.remerges.running > 0 {
		m.setStatus("a re-merge is running; pick a run when it ends", true)
		return m, nil
	}
	m.pickerSeq++
	p := runPicker{ID: m.pickerSeq, Loading: true}
	if m.report != nil {
		p.Current = m.report.Release.Run
		for _, rp := range m.report.Repos {
			if rp.Role == release.RoleAnchor {
				p.Anchor = rp.Repo
			}
		}
	}
	m.dialogs = m.dialogs.push(p)
	return m, m.runsCmd(m.ctx, p.ID)
}

// handleRuns fills the picker that asked with its answer; an error closes
// it and goes to the status line, where it stays readable. The answer of a
// picker closed or reopened meanwhile finds no picker with its id.
func (m Model) handleRuns(msg RunsMsg) (Model, tea.Cmd) {
	for i, d := range m.dialogs {
		p, ok := d.(runPicker)
		if !ok || p.ID != msg.PickerID {
			continue
		}
		if msg.Err != nil {
			m.dialogs = m.dialogs.without(i)
			m.setStatus("listing runs failed: "+msg.Err.Error(), true)
			return m, nil
		}
		p.setRuns(msg.Runs)
		m.dialogs = m.dialogs.replace(i, p)
	}
	return m, nil
}
