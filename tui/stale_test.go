package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// runCmd runs cmd (batches expanded) and returns its messages without
// feeding them to a model: the answer is held back, as a slow registry
// would hold it.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runCmd(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// A plan asked for before a re-inspection, answering after it, describes a
// report no longer on screen: it is dropped, never confirmed (issue 18,
// item 11). Here the backend was fixed meanwhile; its stale plan would
// re-merge it again.
func TestStalePlanIsNotConfirmed(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 160, 48)
	m, _ = press(t, m, "down") // -cpu-whisper, repairable
	nm, planCmd := m.Update(keyMsg("enter"))
	m = nm.(Model)
	if planCmd == nil {
		t.Fatal("opening the detail pane asked for no plan")
	}
	f.mu.Lock()
	w := f.report.Backends[1]
	w.Verdict, w.Problems, w.Impact = release.VerdictOK, nil, nil
	f.mu.Unlock()
	m, _ = press(t, m, "ctrl+r")
	if b := m.selectedBackend(); b == nil || b.Suffix != "-cpu-whisper" || b.Verdict != release.VerdictOK {
		t.Fatalf("after the re-inspection the selection is %+v, want -cpu-whisper ok", b)
	}
	for _, msg := range runCmd(planCmd) { // the old answer arrives now
		nm, _ = m.Update(msg)
		m = nm.(Model)
	}
	m, _ = press(t, m, "r", "y")
	if _, repaired, _ := f.calls(); len(repaired) != 0 {
		t.Errorf("re-merged %v on a plan made before the re-inspection", repaired)
	}
	if p := m.plans["-cpu-whisper"]; p == nil || !p.Plan.NoOp {
		t.Errorf("plan on screen %+v, want the fresh no-op one", p)
	}
}

// A plan asked for after a re-inspection started but before its first
// event describes the report still on screen, the old one: it carries that
// report's id, so once the new report is in, its late answer is dropped
// too.
func TestPlanAskedDuringReinspectionIsNotConfirmed(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 160, 48)
	m, _ = press(t, m, "down") // -cpu-whisper, repairable
	f.mu.Lock()
	w := f.report.Backends[1]
	w.Verdict, w.Problems, w.Impact = release.VerdictOK, nil, nil
	f.mu.Unlock()
	nm, inspectCmd := m.Update(keyMsg("ctrl+r"))
	m = nm.(Model)
	nm, planCmd := m.Update(keyMsg("enter")) // the old report is still on screen
	m = nm.(Model)
	if planCmd == nil {
		t.Fatal("opening the detail pane asked for no plan")
	}
	m, _ = settle(t, m, inspectCmd)
	for _, msg := range runCmd(planCmd) {
		nm, _ = m.Update(msg)
		m = nm.(Model)
	}
	m, _ = press(t, m, "r", "y")
	if _, repaired, _ := f.calls(); len(repaired) != 0 {
		t.Errorf("re-merged %v on a plan of the report the re-inspection replaced", repaired)
	}
}
