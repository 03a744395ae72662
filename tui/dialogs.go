package tui

import (
	"slices"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// dialog is one box on the overlay stack (the re-merge confirmation, the
// run picker, the release pane, the help screen). Only the front dialog
// takes keys, and it never acts by itself: Update answers with a typed
// action that the root model interprets, as crush's internal/ui/dialog
// does. Dialogs are values: Update returns the changed dialog and the
// stack stores it, so no copy of the Model ever sees another's scroll.
type dialog interface {
	// Update interprets one key. A nil action means the key meant nothing
	// to the root (it may have scrolled the box).
	Update(msg tea.KeyPressMsg, e env) (dialog, dialogAction)
	// Render draws the box for the screen e describes; the root centres
	// it over the screen.
	Render(e env) string
}

// env is what a dialog may read of the root: the screen's size, the keys,
// the styles and the help bubble, and the report on screen with its plans.
type env struct {
	width, height int
	keys          KeyMap
	styles        *Styles
	help          help.Model
	report        *release.Report
	plans         map[string]*planState
}

// env describes the model to its dialogs.
func (m *Model) env() env {
	return env{width: m.width, height: m.height, keys: m.keys, styles: &m.styles, help: m.help,
		report: m.report, plans: m.plans}
}

// dialogAction is what a key in a dialog asks the root to do.
type dialogAction interface{ isDialogAction() }

// actionClose closes the front dialog; Status, when set, goes to the
// status line.
type actionClose struct{ Status string }

// actionConfirm closes the confirmation and queues the re-merge of
// Suffixes.
type actionConfirm struct{ Suffixes []string }

// actionPickRun closes the picker and re-inspects the release with Run.
type actionPickRun struct{ Run string }

// actionExport writes the report on screen to files (e in the release
// pane), leaving the pane open.
type actionExport struct{}

func (actionClose) isDialogAction()   {}
func (actionConfirm) isDialogAction() {}
func (actionPickRun) isDialogAction() {}
func (actionExport) isDialogAction()  {}

// dialogStack is the overlay stack, front last. Its operations return a
// new slice, so a Model copy never writes into another's stack.
type dialogStack []dialog

// front is the dialog that takes keys, or nil.
func (s dialogStack) front() dialog {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

func (s dialogStack) push(d dialog) dialogStack { return append(slices.Clip(s), d) }

func (s dialogStack) pop() dialogStack {
	if len(s) == 0 {
		return s
	}
	return slices.Clip(s[:len(s)-1])
}

// replace puts d in place of the dialog at i.
func (s dialogStack) replace(i int, d dialog) dialogStack {
	c := slices.Clone(s)
	c[i] = d
	return c
}

// without drops the dialog at i.
func (s dialogStack) without(i int) dialogStack {
	return slices.Delete(slices.Clone(s), i, i+1)
}

// dialogKey hands a key to the front dialog and carries out its answer.
func (m Model) dialogKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d, act := m.dialogs.front().Update(msg, m.env())
	m.dialogs = m.dialogs.replace(len(m.dialogs)-1, d)
	switch a := act.(type) {
	case actionClose:
		m.dialogs = m.dialogs.pop()
		if a.Status != "" {
			m.setStatus(a.Status, false)
		}
	case actionConfirm:
		m.dialogs = m.dialogs.pop()
		return m, m.enqueue(a.Suffixes)
	case actionPickRun:
		m.dialogs = m.dialogs.pop()
		m.run = a.Run
		m.setStatus("re-inspecting with run "+a.Run+"…", false)
		return m, m.startInspect()
	case actionExport:
		return m.export()
	}
	return m, nil
}

// overlay draws every dialog of the stack over the screen, front last,
// each centred. A box is drawn with a blank column on each side, so no
// cell of the table (a selection marker, a header's last letter) touches
// its border and reads as part of it.
func (m Model) overlay(screen string) string {
	if len(m.dialogs) == 0 {
		return screen
	}
	e := m.env()
	layers := []*lipgloss.Layer{lipgloss.NewLayer(screen)}
	for i, d := range m.dialogs {
		box := lipgloss.NewStyle().Padding(0, 1).Render(d.Render(e))
		x := max(0, (m.width-lipgloss.Width(box))/2)
		y := max(0, (m.height-lipgloss.Height(box))/2)
		layers = append(layers, lipgloss.NewLayer(box).X(x).Y(y).Z(i+1))
	}
	c := lipgloss.NewCanvas(m.width, m.height)
	c.Compose(lipgloss.NewCompositor(layers...))
	return fitBlock(c.Render(), m.width, m.height)
}
