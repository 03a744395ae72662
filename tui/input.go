package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
)

// handleKey routes a key press: ctrl+c always quits; an open dialog, the
// filter input and the help screen each take the keys before the table.
func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.dialog != nil {
		return m.dialogKey(msg)
	}
	if m.picker != nil {
		return m.pickerKey(msg)
	}
	if m.showRelease {
		switch {
		case key.Matches(msg, m.keys.Release) || key.Matches(msg, m.keys.Cancel):
			m.showRelease = false
		case key.Matches(msg, m.keys.Export):
			return m.export()
		default:
			m.release.scrollKey(msg, m.keys, m.release.box(m.report, m.width, m.height, &m.styles))
		}
		return m, nil
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	if m.showHelp {
		if key.Matches(msg, m.keys.Help) || key.Matches(msg, m.keys.Cancel) || key.Matches(msg, m.keys.Quit) {
			m.showHelp = false
		} else {
			m.helpScreen.scrollKey(msg, m.keys, m.helpScreen.box(&m))
		}
		return m, nil
	}
	if !key.Matches(msg, m.keys.Quit) {
		m.quitArmed = false
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		if m.running > 0 && !m.quitArmed {
			m.quitArmed = true
			m.setStatus("a re-merge is running: q again cancels it and quits", true)
			return m, nil
		}
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		m.helpScreen.offset = 0
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
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.layout()
		return m, m.filter.Focus()
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
		return m, m.planForDetail()
	case key.Matches(msg, k.Repair):
		return m.openRepair()
	case key.Matches(msg, k.RepairAll):
		return m.openRepairAllWarned()
	case key.Matches(msg, k.Refresh):
		if m.running > 0 {
			m.setStatus("a re-merge is running; the release is re-inspected when it ends", true)
			return m, nil
		}
		return m.refresh()
	case key.Matches(msg, k.Runs):
		return m.openRuns()
	case key.Matches(msg, k.Release):
		m.showRelease = true
		m.release.offset = 0
		return m, nil
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
// table (compact layout) it scrolls the pane instead.
func (m Model) move(n int) (tea.Model, tea.Cmd) {
	if m.showDetail && !m.rects.Split {
		m.measureDetail()
		m.detail.scroll(n)
		return m, nil
	}
	rows := m.rows()
	if len(rows) == 0 {
		return m, nil
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
	return m, m.planForDetail()
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

func (m Model) dialogKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d := *m.dialog // the model is a value: never write through its pointer
	m.dialog = &d
	p := m.dialogPlan()
	switch a := d.Update(msg, m.keys, p, d.box(m.width, m.height, p, &m.styles)).(type) {
	case actionCancel:
		m.dialog = nil
		m.setStatus("re-merge cancelled", false)
	case actionConfirm:
		m.dialog = nil
		return m, m.enqueue(a.Suffixes)
	}
	return m, nil
}

// dialogPlan is the plan the open single-backend dialog shows.
func (m Model) dialogPlan() *planState {
	if m.dialog == nil || m.dialog.All || len(m.dialog.Suffixes) == 0 {
		return nil
	}
	return m.plans[m.dialog.Suffixes[0]]
}

// openRepair opens the confirmation for the selected backend and asks for
// its plan if none is cached.
func (m Model) openRepair() (tea.Model, tea.Cmd) {
	b := m.selectedBackend()
	switch {
	case b == nil:
		return m, nil
	case b.Verdict == inspect.VerdictPending:
		m.setRowStatus(b.Suffix, b.Suffix+" is still being probed", true)
		return m, nil
	}
	if _, busy := m.jobs[b.Suffix]; busy {
		m.setRowStatus(b.Suffix, b.Suffix+" is already queued for a re-merge", true)
		return m, nil
	}
	m.dialog = &confirmDialog{Suffixes: []string{b.Suffix}}
	return m, m.requestPlan(b)
}

// openRepairAll opens the confirmation for every repairable backend.
func (m Model) openRepairAll() (tea.Model, tea.Cmd) {
	var todo []string
	if m.report != nil {
		for _, b := range m.report.Backends {
			if _, busy := m.jobs[b.Suffix]; b.Verdict == inspect.VerdictRepairable && !busy {
				todo = append(todo, b.Suffix)
			}
		}
	}
	m.dialog = &confirmDialog{Suffixes: todo, All: true}
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
	if o, ok := m.outcomes[b.Suffix]; ok && len(o.Commands) > 0 {
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
func copyLeg(b *inspect.BackendReport) *inspect.Leg {
	var first *inspect.Leg
	for i := range b.Legs {
		l := &b.Legs[i]
		if l.Digest == "" {
			continue
		}
		if first == nil {
			first = l
		}
		for _, c := range l.Cells {
			if c.State != inspect.CellPresent {
				return l
			}
		}
	}
	return first
}
