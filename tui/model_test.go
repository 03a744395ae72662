package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
)

func TestApplyEventsRebuildFixture(t *testing.T) {
	t.Parallel()
	want := fixture()
	evs := events(want)
	got := evs[0].(inspect.StartEvent).Report
	for _, ev := range evs[1:] {
		if _, ok := ev.(inspect.BackendEvent); ok {
			continue // rebuild from the fine-grained events only
		}
		if _, ok := ev.(inspect.ProgressEvent); ok {
			continue
		}
		if !applyEvent(got, ev) {
			t.Fatalf("event %#v not applied", ev)
		}
	}
	for i, b := range want.Backends {
		g := got.Backends[i]
		if !reflect.DeepEqual(g.Legs, b.Legs) {
			t.Errorf("%s legs:\n got %+v\nwant %+v", b.Suffix, g.Legs, b.Legs)
		}
		for name, ts := range b.Targets {
			if !reflect.DeepEqual(g.Targets[name], ts) {
				t.Errorf("%s target %s:\n got %+v\nwant %+v", b.Suffix, name, g.Targets[name], ts)
			}
		}
	}
	if applyEvent(got, inspect.CellEvent{Suffix: "-nope", PlatformTag: "amd64"}) {
		t.Error("event for an unknown backend was applied")
	}
}

func TestFirstInspection(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 80, 24)
	if got := len(m.rows()); got != len(fixture().Backends) {
		t.Fatalf("rows = %d", got)
	}
	if m.selected != "-cpu-kokoro" {
		t.Errorf("selected = %q, want the first backend", m.selected)
	}
	if m.probesDone != 47 || m.probesTotal != 47 { // every cell of the fixture; darwin has no anchor cell
		t.Errorf("probes = %d/%d", m.probesDone, m.probesTotal)
	}
	if !strings.Contains(m.statusBar.text, "inspected 7 backends") {
		t.Errorf("status = %q", m.statusBar.text)
	}
}

func TestNavigationAndViews(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keys     []string
		selected string
		rows     []string // nil: all, in matrix order
	}{
		{"down", []string{"down"}, "-cpu-whisper", nil},
		{"j twice then k", []string{"j", "j", "k"}, "-cpu-whisper", nil},
		{"up stops at top", []string{"up", "k"}, "-cpu-kokoro", nil},
		{"end", []string{"end"}, "-intel-sycl-f16-whisper", nil},
		{"end then home", []string{"G", "home"}, "-cpu-kokoro", nil},
		{"page down clamps", []string{"pgdown", "pgdown"}, "-intel-sycl-f16-whisper", nil},
		{"broken only", []string{"b"}, "-cpu-whisper",
			[]string{"-cpu-whisper", "-cuda12-vllm", "-cpu-kokoros", "-rocm-llama"}},
		{"broken toggles off", []string{"b", "b"}, "-cpu-whisper", nil},
		{"sort by verdict", []string{"s", "home"}, "-cpu-kokoros",
			[]string{"-cpu-kokoros", "-cuda12-vllm", "-cpu-whisper", "-rocm-llama", "-intel-sycl-f16-whisper", "-cpu-kokoro", "-metal-mlx"}},
		{"filter", []string{"/", "w", "h", "i", "enter"}, "-cpu-whisper",
			[]string{"-cpu-whisper", "-intel-sycl-f16-whisper"}},
		{"filter by verdict word", []string{"/", "c", "o", "n", "f", "enter"}, "-cpu-kokoros", []string{"-cpu-kokoros"}},
		{"esc clears filter while typing", []string{"/", "x", "esc"}, "-metal-mlx", nil},
		{"esc clears a kept filter", []string{"/", "m", "l", "x", "enter", "esc"}, "-metal-mlx", nil},
		{"no match keeps selection", []string{"/", "z", "z", "z", "enter"}, "-cpu-kokoro", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := started(t, newFake(), 80, 24)
			m, _ = press(t, m, tt.keys...)
			if m.selected != tt.selected {
				t.Errorf("selected = %q, want %q", m.selected, tt.selected)
			}
			want := tt.rows
			if want == nil {
				want = suffixes(started(t, newFake(), 80, 24))
			}
			if got := suffixes(m); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("rows = %v, want %v", got, want)
			}
			if m.filtering {
				t.Error("still typing in the filter")
			}
		})
	}
}

func TestDetailAsksForPlan(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 160, 48)
	m, _ = press(t, m, "down", "enter")
	if !m.showDetail || !m.rects.Split {
		t.Fatalf("detail = %v split = %v, want a split detail at 160x48", m.showDetail, m.rects.Split)
	}
	p := m.plans["-cpu-whisper"]
	if p == nil || p.Loading || !p.Plan.Runnable {
		t.Fatalf("plan = %+v, want a runnable plan", p)
	}
	m, _ = press(t, m, "down") // moving with the pane open asks for the next plan
	if p := m.plans["-cuda12-vllm"]; p == nil || p.Plan.Runnable {
		t.Fatalf("plan of the unrepairable backend = %+v", p)
	}
	m, _ = press(t, m, "enter")
	if m.showDetail {
		t.Error("enter did not close the detail pane")
	}
}

func TestCompactDetailScrolls(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 80, 24)
	m, _ = press(t, m, "down", "enter")
	if m.rects.Split || m.rects.Table.W != 0 {
		t.Fatalf("at 80x24 the detail pane must replace the table: %+v", m.rects)
	}
	m, _ = press(t, m, "down", "down")
	if m.selected != "-cpu-whisper" || m.detail.offset != 2 {
		t.Errorf("selected %q offset %d: down must scroll the pane, not move", m.selected, m.detail.offset)
	}
	m, _ = press(t, m, "esc")
	if m.showDetail {
		t.Error("esc did not close the pane")
	}
}

func TestRepairOne(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		row        []string // keys to reach the row
		confirm    string
		repaired   []string
		dialogOpen bool
	}{
		{"repairable confirmed with y", []string{"down"}, "y", []string{"-cpu-whisper"}, false},
		{"repairable confirmed with enter", []string{"down"}, "enter", []string{"-cpu-whisper"}, false},
		{"repairable cancelled", []string{"down"}, "n", nil, false},
		{"refused plan cannot be confirmed", []string{"down", "down"}, "y", nil, true},
		{"no-op plan cannot be confirmed", nil, "y", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			m := started(t, f, 80, 24)
			m, _ = press(t, m, append(tt.row, "r")...)
			if m.confirm() == nil {
				t.Fatal("r did not open the confirmation")
			}
			m, _ = press(t, m, tt.confirm)
			inspects, repaired, _ := f.calls()
			if !slices.Equal(repaired, tt.repaired) {
				t.Errorf("repaired %v, want %v", repaired, tt.repaired)
			}
			if (m.confirm() != nil) != tt.dialogOpen {
				t.Errorf("dialog open = %v, want %v", m.confirm() != nil, tt.dialogOpen)
			}
			if len(tt.repaired) > 0 {
				if inspects != 2 {
					t.Errorf("inspections = %d, want a re-inspection after the re-merge", inspects)
				}
				if len(m.remerges.jobs) != 0 || m.remerges.running != 0 {
					t.Errorf("jobs left: %v running %d", m.remerges.jobs, m.remerges.running)
				}
				if o := m.remerges.outcomes["-cpu-whisper"]; !o.OK {
					t.Errorf("outcome = %+v", o)
				}
			}
		})
	}
}

func TestRepairAllRunsEveryOne(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.report.Backends[2].Verdict = release.VerdictRepairable // -cuda12-vllm
	f.fail["-cpu-whisper"] = true
	m := started(t, f, 80, 24)
	m, _ = press(t, m, "R")
	if m.confirm() == nil || !m.confirm().All || len(m.confirm().Suffixes) != 2 {
		t.Fatalf("dialog = %+v, want both repairable backends", m.confirm())
	}
	if !strings.Contains(m.render(), "Re-merge 2 repairable backend(s)?") {
		t.Error("the dialog does not show the count")
	}
	m, _ = press(t, m, "y")
	inspects, repaired, _ := f.calls()
	slices.Sort(repaired) // they run side by side
	if want := []string{"-cpu-whisper", "-cuda12-vllm"}; !slices.Equal(repaired, want) {
		t.Errorf("repaired %v, want %v", repaired, want)
	}
	if inspects != 2 {
		t.Errorf("inspections = %d, want one re-inspection at the end", inspects)
	}
	if o := m.remerges.outcomes["-cpu-whisper"]; o.OK || !strings.Contains(o.Text, "500") {
		t.Errorf("failed outcome = %+v", o)
	}
}

func TestRepairProgressOnRow(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 120, 30)
	m.remerges.jobs["-cpu-whisper"] = jobState{Job: 9, Running: true}
	m.remerges.running = 1
	nm, _ := m.Update(RepairProgressMsg{Job: 9, Suffix: "-cpu-whisper",
		Progress: Progress{Step: 1, Steps: 3, Text: "copy arm64", Bytes: 1 << 20, TotalBytes: 4 << 20}})
	m = nm.(Model)
	nm, _ = m.Update(RepairProgressMsg{Job: 8, Suffix: "-cpu-whisper", Progress: Progress{Step: 3, Steps: 3}})
	m = nm.(Model)
	view := m.render()
	for _, want := range []string{"⟳ 1/3", "copy arm64 1.0 MiB/4.0 MiB"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	m, msgs := press(t, m, "q")
	if quits(msgs) || !m.quitArmed {
		t.Error("q during a re-merge must ask first")
	}
	_, msgs = press(t, m, "q")
	if !quits(msgs) {
		t.Error("second q did not quit")
	}
}

// TestCopy: c copies the broken leg's digest, and after a re-merge every
// cosign command (one per target); the status says the copy went by OSC 52
// and how to make tmux pass it, and it belongs to its row: it is gone once
// another row is selected, and back when the row is.
func TestCopy(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 80, 24)
	m, msgs := press(t, m, "down", "c")
	got, ok := clipboard(msgs)
	if !ok || got != dg('3') {
		t.Errorf("clipboard = %q, want the broken amd64 digest", got)
	}
	if st, _ := m.statusBar.current(m.selected); !strings.Contains(st, "copied the amd64 digest of -cpu-whisper") || !strings.Contains(st, "set-clipboard on") {
		t.Errorf("status = %q", st)
	}
	m, _ = press(t, m, "down")
	if st, _ := m.statusBar.current(m.selected); strings.Contains(st, "copied") {
		t.Errorf("status about -cpu-whisper stays under another row: %q", st)
	}
	if strings.Contains(stripped(m.View().Content), "copied") {
		t.Error("the screen still shows the copy status of another row")
	}
	m, _ = press(t, m, "up")
	if st, _ := m.statusBar.current(m.selected); !strings.Contains(st, "copied the amd64 digest") {
		t.Errorf("back on the row, status = %q", st)
	}
	m, _ = press(t, m, "r", "y")
	m, msgs = press(t, m, "c")
	got, _ = clipboard(msgs)
	want := "cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 quay.io/go-skynet/local-ai-backends@sha256:cafe\n" +
		"cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 docker.io/localai/localai-backends@sha256:cafe\n"
	if got != want {
		t.Errorf("clipboard after a repair = %q, want both targets' commands", got)
	}
	if st, _ := m.statusBar.current(m.selected); !strings.Contains(st, "2 cosign commands") || !strings.Contains(st, "OSC 52") {
		t.Errorf("status = %q", st)
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Date(2025, 5, 12, 7, 30, 0, 0, time.UTC)
	m := started(t, newFake(), 80, 24, WithExportDir(dir), WithClock(func() time.Time { return at }))
	m, msgs := press(t, m, "e")
	if len(msgs) != 1 {
		t.Fatalf("messages = %v", msgs)
	}
	if done := msgs[0].(ExportDoneMsg); done.Err != nil || len(done.Paths) != 2 {
		t.Fatalf("export = %+v", done)
	}
	md, err := os.ReadFile(filepath.Join(dir, "remerge-v4.2.2-20250512-073000.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The export is internal/report's markdown, as inspect --format
	// markdown writes it.
	for _, want := range []string{"| `-cpu-whisper` | repairable | amd64 ●○●○<br>arm64 ●○●○ | missing L! | complete L |",
		"| arm64 present nowhere: rebuild -cuda12-vllm arm64<br>"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "remerge-v4.2.2-20250512-073000.json")); err != nil {
		t.Error(err)
	}
	if want := "exported remerge-v4.2.2-20250512-073000.md, remerge-v4.2.2-20250512-073000.json to " + dir; m.statusBar.text != want {
		t.Errorf("status = %q, want %q", m.statusBar.text, want)
	}
}

// TestExportRelativeDirAndSignFile: the status names the folder as an
// absolute path even when the export dir is relative, and after a re-merge
// the export writes every cosign command to a -sign.sh file: the fallback
// for a terminal that ignores c's clipboard copy.
func TestExportRelativeDirAndSignFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	at := time.Date(2025, 5, 12, 7, 30, 0, 0, time.UTC)
	m := started(t, newFake(), 80, 24, WithExportDir("."), WithClock(func() time.Time { return at }))
	m, _ = press(t, m, "down", "r", "y")
	m, _ = press(t, m, "e")
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.statusBar.text, " to "+abs) && !strings.HasSuffix(m.statusBar.text, " to "+dir) {
		t.Errorf("status = %q, want it to end in the absolute folder %s", m.statusBar.text, dir)
	}
	if !strings.Contains(m.statusBar.text, "-sign.sh") {
		t.Errorf("status = %q does not name the sign file", m.statusBar.text)
	}
	sh, err := os.ReadFile(filepath.Join(dir, "remerge-v4.2.2-20250512-073000-sign.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"quay.io/go-skynet/local-ai-backends@sha256:cafe", "docker.io/localai/localai-backends@sha256:cafe"} {
		if !strings.Contains(string(sh), "cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 "+repo+"\n") {
			t.Errorf("sign file lacks the command for %s:\n%s", repo, sh)
		}
	}
}

func TestRefreshDropsStaleEvents(t *testing.T) {
	t.Parallel()
	f := newFake()
	m := started(t, f, 80, 24)
	old := m.inspectID
	m, _ = press(t, m, "ctrl+r")
	if m.inspectID != old+1 {
		t.Fatalf("inspect id %d, want %d", m.inspectID, old+1)
	}
	nm, _ := m.Update(EventMsg{InspectID: old, Event: inspect.StartEvent{Report: &release.Report{}}})
	if len(nm.(Model).report.Backends) == 0 {
		t.Error("an event of the superseded inspection replaced the report")
	}
}

func TestQuit(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			t.Parallel()
			m := started(t, newFake(), 80, 24)
			m, msgs := press(t, m, k)
			if !quits(msgs) {
				t.Errorf("%s did not quit", k)
			}
			if m.ctx.Err() == nil {
				t.Error("quitting did not cancel the jobs' context")
			}
		})
	}
}

func TestViewIsExactlyTheWindow(t *testing.T) {
	t.Parallel()
	sizes := [][2]int{{80, 24}, {100, 30}, {160, 48}, {200, 60}, {50, 12}}
	states := map[string][]string{"table": nil, "detail": {"down", "enter"}, "dialog": {"down", "r"}, "help": {"?"}, "filter": {"/", "k"}, "runs": {"u"}}
	for _, sz := range sizes {
		for name, keys := range states {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				t.Parallel()
				m := started(t, newFake(), sz[0], sz[1])
				m, _ = press(t, m, keys...)
				nm, _ := m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				lines := strings.Split(nm.(Model).render(), "\n")
				if len(lines) != sz[1] {
					t.Fatalf("%dx%d %s: %d lines", sz[0], sz[1], name, len(lines))
				}
				for i, l := range lines {
					if w := lipglossWidth(l); w > sz[0] {
						t.Errorf("%dx%d %s line %d is %d wide", sz[0], sz[1], name, i, w)
					}
				}
			})
		}
	}
}

// Re-merges run side by side; a row whose re-merge ended says so at once
// instead of keeping its old verdict until the whole batch is done, and
// the release is re-inspected only after the last one.
func TestParallelRepairsShowEachRowsEnd(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 120, 30)
	m.remerges.jobs["-cpu-whisper"] = jobState{Job: 9, Running: true}
	m.remerges.jobs["-cpu-kokoro"] = jobState{Job: 10, Running: true}
	m.remerges.running = 2
	nm, cmd := m.Update(RepairDoneMsg{Job: 9, Suffix: "-cpu-whisper", Outcome: Outcome{Suffix: "-cpu-whisper", OK: true, Text: "quay: published"}})
	m = nm.(Model)
	if m.remerges.running != 1 || m.inspecting {
		t.Fatalf("running %d, inspecting %v after the first of two ended", m.remerges.running, m.inspecting)
	}
	_ = cmd
	view := m.render()
	if !strings.Contains(view, "✓ merged") {
		t.Errorf("the finished row does not say so:\n%s", view)
	}
	nm, _ = m.Update(RepairDoneMsg{Job: 10, Suffix: "-cpu-kokoro", Outcome: Outcome{Suffix: "-cpu-kokoro", OK: false, Text: "quay: failed"}})
	m = nm.(Model)
	if m.remerges.running != 0 || !m.inspecting {
		t.Errorf("running %d, inspecting %v after the last ended; want a re-inspection", m.remerges.running, m.inspecting)
	}
	if view := m.render(); !strings.Contains(view, "✗ failed") {
		t.Errorf("the failed row does not say so:\n%s", view)
	}
}
