package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

const (
	newRun = "25745181433" // the fixture's run, newest in the fake
	oldRun = "25612093377"
)

func TestRunPicker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    []string
		open    bool
		cursor  int
		runs    []string // runs asked of Inspect, in order ("" = default)
		onShown string   // Release.Run of the report on screen
	}{
		{"u opens on the current run", []string{"u"}, true, 0, []string{""}, newRun},
		{"down moves, not past the end", []string{"u", "down", "j", "down"}, true, 1, []string{""}, newRun},
		{"esc cancels", []string{"u", "down", "esc"}, false, 0, []string{""}, newRun},
		{"n cancels", []string{"u", "n"}, false, 0, []string{""}, newRun},
		{"enter picks the older run", []string{"u", "down", "enter"}, false, 0, []string{"", oldRun}, oldRun},
		{"enter on the current run re-inspects with it", []string{"u", "enter"}, false, 0, []string{"", newRun}, newRun},
		{"the picked run survives a refresh", []string{"u", "down", "enter", "ctrl+r"}, false, 0, []string{"", oldRun, oldRun}, oldRun},
		{"the picker reopens on the picked run", []string{"u", "down", "enter", "u"}, true, 1, []string{"", oldRun}, oldRun},
		{"keys do not reach the table", []string{"u", "down", "r"}, true, 1, []string{""}, newRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			m := started(t, f, 80, 24)
			m, _ = press(t, m, tt.keys...)
			if (m.picker() != nil) != tt.open {
				t.Fatalf("picker open = %v, want %v", m.picker() != nil, tt.open)
			}
			if m.confirm() != nil {
				t.Error("a key meant for the picker opened the re-merge dialog")
			}
			if tt.open {
				p := m.picker()
				if p.Loading || !slices.Equal(p.Runs, fakeRuns) {
					t.Errorf("picker loading = %v runs = %v, want %v", p.Loading, p.Runs, fakeRuns)
				}
				if p.Cursor != tt.cursor {
					t.Errorf("cursor = %d, want %d", p.Cursor, tt.cursor)
				}
				if p.Current != tt.onShown || p.Anchor != anchorRepo {
					t.Errorf("current = %q anchor = %q", p.Current, p.Anchor)
				}
			}
			f.mu.Lock()
			runs := slices.Clone(f.inspectRuns)
			f.mu.Unlock()
			if !slices.Equal(runs, tt.runs) {
				t.Errorf("Inspect asked for runs %q, want %q", runs, tt.runs)
			}
			if got := m.report.Release.Run; got != tt.onShown {
				t.Errorf("run on screen = %q, want %q", got, tt.onShown)
			}
			if !strings.Contains(m.header(), "run "+tt.onShown) {
				t.Errorf("header does not show run %s:\n%s", tt.onShown, m.header())
			}
		})
	}
}

func TestRunPickerRendersRuns(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 160, 48)
	m, _ = press(t, m, "u", "down")
	view := stripped(m.render())
	for _, want := range []string{
		"Runs anchored in " + anchorRepo,
		"  " + newRun + "    94 anchors  newest · ● on screen",
		"▸ " + oldRun + "    31 anchors",
		"enter select",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("picker lacks %q:\n%s", want, view)
		}
	}
}

func TestRunPickerErrorsAndEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		runs    []release.AnchorRun
		err     error
		open    bool
		status  string
		showing string
	}{
		{"error goes to the status line", nil, errors.New("listing tags of " + anchorRepo + ": 401 UNAUTHORIZED"), false,
			"listing runs failed: listing tags of " + anchorRepo + ": 401 UNAUTHORIZED", ""},
		{"no run keeps the picker open with a note", nil, nil, true, "inspected 7 backends", "no keepalive tag there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.runs, f.runsErr = tt.runs, tt.err
			m := started(t, f, 80, 24)
			m, _ = press(t, m, "u")
			if (m.picker() != nil) != tt.open {
				t.Fatalf("picker open = %v, want %v", m.picker() != nil, tt.open)
			}
			if !strings.Contains(m.statusBar.text, tt.status) || m.statusBar.err != (tt.err != nil) {
				t.Errorf("status = %q (err %v), want %q", m.statusBar.text, m.statusBar.err, tt.status)
			}
			if tt.showing != "" && !strings.Contains(m.render(), tt.showing) {
				t.Errorf("view lacks %q", tt.showing)
			}
			m, _ = press(t, m, "enter") // nothing to pick
			if inspects, _, _ := f.calls(); inspects != 1 {
				t.Errorf("inspections = %d, want no re-inspection", inspects)
			}
		})
	}
}

// TestRunPickerDropsLateAnswers checks that the answer to a picker closed
// since does not fill the one opened after it.
func TestRunPickerDropsLateAnswers(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 80, 24)
	for _, k := range []string{"u", "esc", "u"} { // the runs commands never run
		nm, _ := m.Update(keyMsg(k))
		m = nm.(Model)
	}
	nm, _ := m.Update(RunsMsg{PickerID: m.picker().ID - 1, Runs: fakeRuns})
	m = nm.(Model)
	if !m.picker().Loading || len(m.picker().Runs) != 0 {
		t.Errorf("a late answer filled the new picker: %+v", m.picker())
	}
	nm, _ = m.Update(RunsMsg{PickerID: m.picker().ID, Runs: fakeRuns})
	if p := nm.(Model).picker(); p.Loading || len(p.Runs) != 2 {
		t.Errorf("the picker's own answer was not taken: %+v", p)
	}
}

// TestRunPickerCancelsInspection picks a run while a re-inspection is in
// flight: the old one is cancelled and only the picked run's report shows.
func TestRunPickerCancelsInspection(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 80, 24)
	nm, inFlight := m.Update(keyMsg("ctrl+r")) // started, never run yet
	m = nm.(Model)
	if !m.inspecting {
		t.Fatal("ctrl+r did not start an inspection")
	}
	m, _ = press(t, m, "u", "down", "enter")
	m, _ = settle(t, m, inFlight) // the superseded inspection runs late
	f.mu.Lock()
	cancelled, runs := f.cancelled, slices.Clone(f.inspectRuns)
	f.mu.Unlock()
	if cancelled != 1 {
		t.Errorf("cancelled inspections = %d, want the superseded one", cancelled)
	}
	if want := []string{"", oldRun, ""}; !slices.Equal(runs, want) {
		t.Errorf("Inspect asked for runs %q, want %q", runs, want)
	}
	if m.inspecting || m.report.Release.Run != oldRun {
		t.Errorf("inspecting = %v, run on screen = %q, want %s", m.inspecting, m.report.Release.Run, oldRun)
	}
}

func TestRunPickerWaitsForRepair(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 80, 24)
	m.remerges.running = 1
	m, _ = press(t, m, "u")
	if m.picker() != nil || !m.statusBar.err || !strings.Contains(m.statusBar.text, "re-merge is running") {
		t.Errorf("picker = %+v status = %q: a running re-merge must keep its release on screen", m.picker(), m.statusBar.text)
	}
}

// TestRunPickerScrolls keeps the cursor visible in a list longer than the
// box, and says which part of the list shows.
func TestRunPickerScrolls(t *testing.T) {
	t.Parallel()
	var runs []release.AnchorRun
	for i := range 40 {
		runs = append(runs, release.AnchorRun{ID: fmt.Sprint(25745181433 - i*1000), Anchors: i + 1})
	}
	f := newFake()
	f.runs = runs
	m := started(t, f, 80, 24)
	keys := []string{"u"}
	for range 30 {
		keys = append(keys, "down")
	}
	m, _ = press(t, m, keys...)
	view := stripped(m.render())
	if !strings.Contains(view, "▸ "+runs[30].ID) {
		t.Errorf("cursor row %s not visible:\n%s", runs[30].ID, view)
	}
	if !strings.Contains(view, "of 40 runs)") {
		t.Errorf("no position note:\n%s", view)
	}
	nm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if n := len(strings.Split(nm.(Model).render(), "\n")); n != 24 {
		t.Errorf("%d lines, want 24", n)
	}
}

// TestRepairUsesTheRunOnScreen checks that plans and re-merges name the run
// whose digests the report on screen holds, picked or resolved by default.
func TestRepairUsesTheRunOnScreen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"default run", []string{"down", "r", "y"}, newRun},
		{"picked run", []string{"u", "down", "enter", "down", "r", "y"}, oldRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			m := started(t, f, 80, 24)
			press(t, m, tt.keys...)
			f.mu.Lock()
			runs := slices.Clone(f.planRuns)
			f.mu.Unlock()
			if want := []string{tt.want, tt.want}; !slices.Equal(runs, want) {
				t.Errorf("Plan and Repair were given runs %q, want %q", runs, want)
			}
		})
	}
}
