package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// handleKey routes a key press: ctrl+c always quits; the front dialog of
// the stack, else the filter input, takes every other key before the
// table does.
func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case msg.String() == "ctrl+c":
		return m.quit()
	case m.dialogs.front() != nil:
		return m.dialogKey(msg)
	case m.filtering:
		return m.filterKey(msg)
	}
	if !key.Matches(msg, m.keys.Quit) {
		m.quitArmed = false
	}
	if nm, cmd, ok := m.moveKey(msg); ok {
		return nm, cmd
	}
	if nm, cmd, ok := m.viewKey(msg); ok {
		return nm, cmd
	}
	return m.actionKey(msg)
}

// moveKey moves the selection or scrolls the detail pane; ok is false
// for any other key.
func (m Model) moveKey(msg tea.KeyPressMsg) (_ tea.Model, _ tea.Cmd, ok bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		return m.move(-1)
	case key.Matches(msg, k.Down):
		return m.move(1)
	case key.Matches(msg, k.PageUp):
		return m.move(-m.page())
	case key.Matches(msg, k.PageDown):
		return m.move(m.page())
	case key.Matches(msg, k.Home):
		return m.move(-1 << 30)
	case key.Matches(msg, k.End):
		return m.move(1 << 30)
	case key.Matches(msg, k.DetailUp):
		m.detail.scroll(-max(1, m.detail.inner()/2))
	case key.Matches(msg, k.DetailDown):
		m.measureDetail()
		m.detail.scroll(max(1, m.detail.inner()/2))
	case key.Matches(msg, k.DetailLeft) && m.showDetail:
		m.measureDetail()
		m.detail.scrollX(-max(1, m.detail.textWidth()/2))
	case key.Matches(msg, k.DetailRight) && m.showDetail:
		m.measureDetail()
		m.detail.scrollX(max(1, m.detail.textWidth()/2))
	default:
		return m, nil, false
	}
	return m, nil, true
}

// viewKey changes which rows show and how (filter, broken only, sort, the
// detail pane); ok is false for any other key.
func (m Model) viewKey(msg tea.KeyPressMsg) (_ tea.Model, _ tea.Cmd, ok bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.layout()
		return m, m.filter.Focus(), true
	case key.Matches(msg, k.ClearFilter):
		switch {
		case m.showDetail:
			m.showDetail = false
			m.layout()
		case m.filter.Value() != "":
			m.filter.Reset()
			m.fixSelection()
		}
	case key.Matches(msg, k.Broken):
		m.brokenOnly = !m.brokenOnly
		m.fixSelection()
	case key.Matches(msg, k.NotBuilt):
		m.showNotBuilt = !m.showNotBuilt
		m.fixSelection()
	case key.Matches(msg, k.Sort):
		m.sort = (m.sort + 1) % 2
		m.fixSelection()
		m.setStatus("sorted by "+m.sort.String()+" order", false)
	case key.Matches(msg, k.Details):
		m.showDetail = !m.showDetail
		m.detail.offset = 0
		m.layout()
		return m, m.planForDetail(), true
	default:
		return m, nil, false
	}
	return m, nil, true
}

// actionKey opens a dialog or starts work: quit, help, re-merges,
// re-inspection, runs, the release pane, copy and export.
func (m Model) actionKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		if m.remerges.running > 0 && !m.quitArmed {
			m.quitArmed = true
			m.setStatus("a re-merge is running: q again cancels it and quits", true)
			return m, nil
		}
		return m.quit()
	case key.Matches(msg, k.Help):
		m.dialogs = m.dialogs.push(helpScreen{})
	case key.Matches(msg, k.Repair):
		return m.openRepair()
	case key.Matches(msg, k.RepairAll):
		return m.openRepairAllWarned()
	case key.Matches(msg, k.Refresh):
		if m.remerges.running > 0 {
			m.setStatus("a re-merge is running; the release is re-inspected when it ends", true)
			return m, nil
		}
		return m.refresh()
	case key.Matches(msg, k.Runs):
		return m.openRuns()
	case key.Matches(msg, k.Release):
		m.dialogs = m.dialogs.push(releasePane{})
	case key.Matches(msg, k.Copy):
		return m.copySelected()
	case key.Matches(msg, k.Export):
		return m.export()
	}
	return m, nil
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.cancel()
	return m, tea.Quit
}

// page is how far pgup/pgdown move: a table page, or a detail page when the
// detail pane has the whole body.
func (m Model) page() int {
	if m.showDetail && !m.rects.Split {
		return m.detail.inner()
	}
	return m.table.pageSize()
}

// move moves the selection by n rows; when the detail pane replaces the
// table (compact layout) it scrolls the pane instead. ok is always true:
// the key was a movement.
func (m Model) move(n int) (_ tea.Model, _ tea.Cmd, ok bool) {
	if m.showDetail && !m.rects.Split {
		m.measureDetail()
		m.detail.scroll(n)
		return m, nil, true
	}
	rows := m.rows()
	if len(rows) == 0 {
		return m, nil, true
	}
	i := max(0, min(len(rows)-1, m.cursor(rows)+n))
	if rows[i].Suffix != m.selected {
		m.detail.offset, m.detail.xoff = 0, 0
	}
	m.selected = rows[i].Suffix
	m.table.follow(i, len(rows))
	if m.statusLines() != m.rects.Status.H { // a row's message came or went
		m.layout()
	}
	return m, m.planForDetail(), true
}

func (m *Model) measureDetail() {
	m.detail.measure(m.detailData(), &m.styles)
}

func (m Model) filterKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "esc":
		m.filter.Reset()
		fallthrough
	case "enter":
		m.filtering = false
		m.filter.Blur()
		m.layout()
		m.fixSelection()
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.fixSelection()
	return m, cmd
}

// openRepair opens the confirmation for the selected backend and asks for
// its plan if none is cached.
func (m Model) openRepair() (tea.Model, tea.Cmd) {
	b := m.selectedBackend()
	switch {
	case b == nil:
		return m, nil
	case b.Verdict == release.VerdictPending:
		m.setRowStatus(b.Suffix, b.Suffix+" is still being probed", true)
		return m, nil
	}
	if m.remerges.busy(b.Suffix) {
		m.setRowStatus(b.Suffix, b.Suffix+" is already queued for a re-merge", true)
		return m, nil
	}
	m.dialogs = m.dialogs.push(confirmDialog{Suffixes: []string{b.Suffix}})
	return m, m.requestPlan(b)
}

// openRepairAll opens the confirmation for every repairable backend.
func (m Model) openRepairAll() (tea.Model, tea.Cmd) {
	var todo []string
	if m.report != nil {
		for _, b := range m.report.Backends {
			if b.Verdict == release.VerdictRepairable && !m.remerges.busy(b.Suffix) {
				todo = append(todo, b.Suffix)
			}
		}
	}
	m.dialogs = m.dialogs.push(confirmDialog{Suffixes: todo, All: true})
	return m, nil
}

// copySelected puts the cosign commands of the selected backend's last
// re-merge (one per target it published to) on the clipboard, or else the
// digest of its first broken leg. The copy is an OSC 52 sequence, which
// some terminals ignore and tmux passes on only with set-clipboard on: the
// status says so, and e writes the commands to a file as well.
func (m Model) copySelected() (tea.Model, tea.Cmd) {
	b := m.selectedBackend()
	if b == nil {
		return m, nil
	}
	if o, ok := m.remerges.outcomes[b.Suffix]; ok && len(o.Commands) > 0 {
		what := "the cosign command"
		if n := len(o.Commands); n > 1 {
			what = fmt.Sprintf("%d cosign commands", n)
		}
		m.setRowStatus(b.Suffix, "copied "+what+" of "+b.Suffix+clipboardNote, false)
		return m, tea.SetClipboard(strings.Join(o.Commands, "\n") + "\n")
	}
	leg := copyLeg(b)
	if leg == nil {
		m.setRowStatus(b.Suffix, b.Suffix+" has no known digest to copy", true)
		return m, nil
	}
	m.setRowStatus(b.Suffix, fmt.Sprintf("copied the %s digest of %s%s", leg.PlatformTag, b.Suffix, clipboardNote), false)
	return m, tea.SetClipboard(leg.Digest)
}

// clipboardNote ends every "copied" status: the copy cannot be confirmed.
const clipboardNote = " (by OSC 52, which some terminals ignore; tmux needs set -g set-clipboard on; e writes a file)"

// copyLeg is the leg whose digest c copies: the first one not present
// everywhere (the one being chased), else the first with a digest.
func copyLeg(b *release.BackendReport) *release.Leg {
	var first *release.Leg
	for i := range b.Legs {
		l := &b.Legs[i]
		if l.Digest == "" {
			continue
		}
		if first == nil {
			first = l
		}
		for _, c := range l.Cells {
			if c.State != release.CellPresent {
				return l
			}
		}
	}
	return first
}
