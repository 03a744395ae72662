package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
)

// Update folds one message into the model. It does no I/O: registry work,
// file writes and the clipboard are commands.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.setStyles(NewStyles(msg.IsDark()))
		return m, nil
	case streamMsg:
		var cmds []tea.Cmd
		for _, sub := range msg.Msgs {
			var cmd tea.Cmd
			m, cmd = m.handle(sub)
			cmds = append(cmds, cmd)
		}
		if !msg.Closed {
			cmds = append(cmds, listen(msg.ch))
		}
		return m, tea.Batch(cmds...)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	m, cmd := m.handle(msg)
	return m, cmd
}

// handle folds one answer of a background job into the model. Every
// answer carries the id of what it answers (an inspection, a picker, a
// re-merge job); an answer to something since superseded is dropped.
func (m Model) handle(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case EventMsg:
		if msg.InspectID != m.inspectID {
			return m, nil // an inspection superseded by a refresh
		}
		return m.handleEvent(msg.Event)
	case InspectDoneMsg:
		if msg.InspectID != m.inspectID {
			return m, nil
		}
		return m.handleInspectDone(msg)
	case RunsMsg:
		return m.handleRuns(msg)
	case PlanMsg:
		if msg.InspectID != m.reportID {
			return m, nil // a plan of a report since replaced
		}
		m.plans[msg.Suffix] = &planState{Plan: msg.Plan, Err: msg.Err}
		return m, nil
	case RepairProgressMsg:
		if m.remerges.progress(msg) {
			m.setStatus(fmt.Sprintf("re-merging %s: step %d/%d %s", msg.Suffix, msg.Progress.Step,
				msg.Progress.Steps, progressText(msg.Progress)), false)
		}
		return m, nil
	case RepairDoneMsg:
		return m.handleRepairDone(msg)
	case ExportDoneMsg:
		if msg.Err != nil {
			m.setStatus("export failed: "+msg.Err.Error(), true)
			return m, nil
		}
		names := make([]string, len(msg.Paths))
		for i, p := range msg.Paths {
			names[i] = filepath.Base(p)
		}
		m.setStatus("exported "+strings.Join(names, ", ")+" to "+msg.Dir, false)
	}
	return m, nil
}

// handleInspectDone puts the final report on screen and sums it up in the
// status line, after the note of the re-merges that led to it.
func (m Model) handleInspectDone(msg InspectDoneMsg) (Model, tea.Cmd) {
	m.inspecting = false
	if msg.Report != nil {
		m.report, m.reportID = msg.Report, msg.InspectID
		m.fixSelection()
		if m.remerges.running == 0 {
			clear(m.remerges.finished) // the rows show the verdicts again
		}
	}
	switch {
	case msg.Err != nil && errors.Is(msg.Err, context.Canceled):
		m.setStatus("inspection cancelled", false)
	case msg.Err != nil:
		m.setStatus("inspection failed: "+msg.Err.Error(), true)
	default:
		s, _ := summarize(m.report)
		status := fmt.Sprintf("inspected %d backends: %d need attention", len(m.report.Backends), s.NeedAttention())
		if m.statusBar.repairNote != "" {
			status = m.statusBar.repairNote + " · " + status
			m.statusBar.repairNote = ""
		}
		if n := len(m.report.Problems); n > 0 {
			status += fmt.Sprintf(" · %d release-wide problem(s): i shows them", n)
		}
		m.setStatus(status, false)
	}
	return m, m.planForDetail()
}

func (m Model) handleEvent(ev inspect.Event) (Model, tea.Cmd) {
	switch ev := ev.(type) {
	case inspect.StartEvent:
		m.report, m.reportID = ev.Report, m.inspectID
		m.probesTotal, m.probesDone = ev.Probes, 0
		m.plans = map[string]*planState{} // plans describe the old state
		if m.selected == "" && m.report != nil && len(m.report.Backends) > 0 {
			m.selected = m.report.Backends[0].Suffix
		}
		m.fixSelection()
		m.setStatus("inspecting "+m.report.Release.Ref+"…", false)
	case inspect.ProgressEvent:
		m.probesDone, m.probesTotal = ev.Done, ev.Total
	case inspect.BackendEvent:
		applyEvent(m.report, ev)
		if ev.Backend == nil {
			return m, nil
		}
		if d, ok := m.dialogs.front().(confirmDialog); ok && !d.All && d.Suffixes[0] == ev.Backend.Suffix {
			return m, m.requestPlan(ev.Backend) // the open dialog waits for it
		}
		if ev.Backend.Suffix == m.selected {
			return m, m.planForDetail()
		}
	default:
		applyEvent(m.report, ev)
	}
	return m, nil
}

// handleRepairDone shows a re-merge's end, starts the next queued one, and
// re-inspects once none is left, so the verdict on screen is always one
// the registries gave, never one assumed from the outcome.
func (m Model) handleRepairDone(msg RepairDoneMsg) (Model, tea.Cmd) {
	out, ok := m.remerges.finish(msg)
	if !ok {
		return m, nil
	}
	switch {
	case msg.Err != nil:
		m.setStatus(fmt.Sprintf("re-merge of %s failed: %v", msg.Suffix, msg.Err), true)
	case !out.OK:
		m.setStatus(fmt.Sprintf("re-merge of %s did not succeed: %s", msg.Suffix, firstLine(out.Text)), true)
	default:
		m.setStatus(fmt.Sprintf("re-merged %s; %s", msg.Suffix, firstLine(out.Text)), false)
	}
	if cmd := m.startRemerges(); cmd != nil || m.remerges.running > 0 {
		return m, cmd
	}
	m.statusBar.repairNote = m.remerges.note()
	m.statusBar.text += " · re-inspecting"
	return m, m.startInspect()
}

// enqueue queues re-merges of suffixes and starts what the limit allows.
func (m *Model) enqueue(suffixes []string) tea.Cmd {
	m.remerges.enqueue(suffixes)
	return m.startRemerges()
}

// startRemerges starts queued re-merges on the report on screen and says
// so in the status line; nil when none starts.
func (m *Model) startRemerges() tea.Cmd {
	before := m.remerges.running
	cmd := m.remerges.start(m.ctx, m.report, m.reportRun())
	switch n := m.remerges.running; {
	case n == before:
		return nil
	case n == 1:
		for s, j := range m.remerges.jobs {
			if j.Running {
				m.setStatus("re-merging "+s+"…", false)
			}
		}
	default:
		m.setStatus(fmt.Sprintf("re-merging %d backends (%d queued)…", n, len(m.remerges.queue)), false)
	}
	return cmd
}

// planForDetail asks for the selected backend's plan when the detail pane
// shows it and no answer is cached.
func (m Model) planForDetail() tea.Cmd {
	if !m.showDetail {
		return nil
	}
	return m.requestPlan(m.selectedBackend())
}

// requestPlan asks for b's plan unless one is cached or b is still being
// probed (a plan of half a picture would be wrong). The request carries
// the id of the inspection b comes from (reportID), which may be older
// than one already started.
func (m Model) requestPlan(b *release.BackendReport) tea.Cmd {
	if b == nil || b.Verdict == release.VerdictPending || b.Verdict == "" {
		return nil
	}
	if _, ok := m.plans[b.Suffix]; ok {
		return nil
	}
	m.plans[b.Suffix] = &planState{Loading: true}
	return m.planCmd(m.ctx, m.reportID, b.Clone())
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
