package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
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

// handle folds one answer of a background job into the model.
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
		m.inspecting = false
		if msg.Report != nil {
			m.report = msg.Report
			m.fixSelection()
			if m.running == 0 {
				m.finished = map[string]bool{} // the rows show the verdicts again
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
			if m.repairNote != "" {
				status = m.repairNote + " · " + status
				m.repairNote = ""
			}
			if n := len(m.report.Problems); n > 0 {
				status += fmt.Sprintf(" · %d release-wide problem(s): i shows them", n)
			}
			m.setStatus(status, false)
		}
		return m, m.planForDetail()
	case RunsMsg:
		return m.handleRuns(msg)
	case PlanMsg:
		m.plans[msg.Suffix] = &planState{Plan: msg.Plan, Err: msg.Err}
		return m, nil
	case RepairProgressMsg:
		j, ok := m.jobs[msg.Suffix]
		if !ok || j.Job != msg.Job {
			return m, nil
		}
		j.Progress = msg.Progress
		m.jobs[msg.Suffix] = j
		m.setStatus(fmt.Sprintf("re-merging %s: step %d/%d %s", msg.Suffix, msg.Progress.Step,
			msg.Progress.Steps, progressText(msg.Progress)), false)
		return m, nil
	case RepairDoneMsg:
		return m.handleRepairDone(msg)
	case ExportDoneMsg:
		if msg.Err != nil {
			m.setStatus("export failed: "+msg.Err.Error(), true)
		} else {
			names := make([]string, len(msg.Paths))
			for i, p := range msg.Paths {
				names[i] = filepath.Base(p)
			}
			m.setStatus("exported "+strings.Join(names, ", ")+" to "+msg.Dir, false)
		}
		return m, nil
	}
	return m, nil
}

func (m Model) handleEvent(ev inspect.Event) (Model, tea.Cmd) {
	switch ev := ev.(type) {
	case inspect.StartEvent:
		m.report = ev.Report
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
		if ev.Backend != nil && ev.Backend.Suffix == m.selected {
			return m, m.planForDetail()
		}
	default:
		applyEvent(m.report, ev)
	}
	return m, nil
}

// handleRepairDone records the outcome, starts the next queued re-merge,
// and re-inspects once the queue is empty.
func (m Model) handleRepairDone(msg RepairDoneMsg) (Model, tea.Cmd) {
	j, ok := m.jobs[msg.Suffix]
	if !ok || j.Job != msg.Job {
		return m, nil
	}
	delete(m.jobs, msg.Suffix)
	m.running--
	out := msg.Outcome
	switch {
	case msg.Err != nil:
		out.OK = false
		if out.Text == "" {
			out.Text = msg.Err.Error()
		}
		m.setStatus(fmt.Sprintf("re-merge of %s failed: %v", msg.Suffix, msg.Err), true)
	case !out.OK:
		m.setStatus(fmt.Sprintf("re-merge of %s did not succeed: %s", msg.Suffix, firstLine(out.Text)), true)
	default:
		m.setStatus(fmt.Sprintf("re-merged %s; %s", msg.Suffix, firstLine(out.Text)), false)
	}
	m.outcomes[msg.Suffix] = out
	m.finished[msg.Suffix] = out.OK
	m.noteRepair(msg.Suffix, out)
	if cmd := m.startRepairs(); cmd != nil || m.running > 0 {
		return m, cmd
	}
	m.status += " · re-inspecting"
	return m, m.startInspect()
}

// enqueue queues re-merges of suffixes and starts the first when idle.
func (m *Model) enqueue(suffixes []string) tea.Cmd {
	for _, s := range suffixes {
		if _, busy := m.jobs[s]; busy {
			continue
		}
		m.jobSeq++
		m.jobs[s] = jobState{Job: m.jobSeq}
		m.queue = append(m.queue, s)
		delete(m.finished, s)
	}
	return m.startRepairs()
}

// maxParallelRepairs bounds the re-merges in flight. Each one's requests
// still go through the client's per-registry limit, which is what bounds
// the load on a registry; this bounds memory and the rows in motion.
const maxParallelRepairs = 8

// startRepairs starts queued re-merges up to maxParallelRepairs in
// flight, or returns nil when none starts.
func (m *Model) startRepairs() tea.Cmd {
	var cmds []tea.Cmd
	for m.running < maxParallelRepairs {
		cmd := m.startNextRepair()
		if cmd == nil {
			break
		}
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// startNextRepair starts the first queued re-merge, or returns nil.
func (m *Model) startNextRepair() tea.Cmd {
	for len(m.queue) > 0 {
		s := m.queue[0]
		m.queue = m.queue[1:]
		b := findBackend(m.report, s)
		j, ok := m.jobs[s]
		if b == nil || !ok {
			delete(m.jobs, s)
			continue
		}
		j.Running = true
		m.jobs[s] = j
		m.running++
		if m.running == 1 {
			m.setStatus("re-merging "+s+"…", false)
		} else {
			m.setStatus(fmt.Sprintf("re-merging %d backends (%d queued)…", m.running, len(m.queue)), false)
		}
		ch := make(chan tea.Msg, maxBatch)
		return tea.Batch(m.repairCmd(m.ctx, j.Job, cloneBackend(b), ch), listen(ch))
	}
	return nil
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
// probed (a plan of half a picture would be wrong).
func (m Model) requestPlan(b *inspect.BackendReport) tea.Cmd {
	if b == nil || b.Verdict == inspect.VerdictPending || b.Verdict == "" {
		return nil
	}
	if _, ok := m.plans[b.Suffix]; ok {
		return nil
	}
	m.plans[b.Suffix] = &planState{Loading: true}
	return m.planCmd(m.ctx, cloneBackend(b))
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

// noteRepair adds a re-merge to the note shown after the re-inspection: how
// many succeeded, which failed, and that what was published is unsigned.
func (m *Model) noteRepair(suffix string, out Outcome) {
	m.repaired++
	if !out.OK {
		m.repairFailed = append(m.repairFailed, suffix)
	}
	if len(out.Commands) > 0 {
		m.unsigned = true
	}
	if len(m.queue) > 0 || m.running > 0 {
		return // the note is written once the queue is done
	}
	ok := m.repaired - len(m.repairFailed)
	note := fmt.Sprintf("re-merged %d of %d", ok, m.repaired)
	if len(m.repairFailed) > 0 {
		note += " (failed: " + strings.Join(m.repairFailed, " ") + ")"
	}
	if m.unsigned {
		note += "; new lists are unsigned (c copies the cosign commands, e writes them to a file)"
	}
	m.repairNote = note
	m.repaired, m.repairFailed, m.unsigned = 0, nil, false
}
