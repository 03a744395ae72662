package tui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// settle runs cmds the way a Program would (each in its own goroutine,
// batches expanded) and feeds their messages through Update until no
// command is left. It returns the model and every message it saw, so tests
// can assert on side effects such as the clipboard.
func settle(t *testing.T, m Model, cmds ...tea.Cmd) (Model, []tea.Msg) {
	t.Helper()
	results := make(chan tea.Msg)
	pending := 0
	run := func(c tea.Cmd) {
		if c == nil {
			return
		}
		pending++
		go func() { results <- c() }()
	}
	for _, c := range cmds {
		run(c)
	}
	var seen []tea.Msg
	for pending > 0 {
		var msg tea.Msg
		select {
		case msg = <-results:
		case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
			t.Fatalf("commands did not settle; %d pending", pending)
		}
		pending--
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case tea.QuitMsg:
			seen = append(seen, msg)
		default:
			seen = append(seen, msg)
			nm, c := m.Update(msg)
			m = nm.(Model)
			run(c)
		}
	}
	return m, seen
}

// started is a model of size w x h over f whose first inspection finished.
func started(t *testing.T, f *fakeService, w, h int, opts ...Option) Model {
	t.Helper()
	opts = append([]Option{WithNoColor(true)}, opts...)
	m := New(f, opts...)
	nm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m, _ = settle(t, nm.(Model), m.Init())
	if m.inspecting {
		t.Fatal("first inspection did not finish")
	}
	return m
}

// keyMsg builds the key press for a key name as bubbletea spells it.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	case "ctrl+d":
		return tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	if r >= 'A' && r <= 'Z' {
		return tea.KeyPressMsg{Code: r + ('a' - 'A'), Text: k, Mod: tea.ModShift}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

// press sends keys one by one, settling the commands of each.
func press(t *testing.T, m Model, keys ...string) (Model, []tea.Msg) {
	t.Helper()
	var all []tea.Msg
	for _, k := range keys {
		msg := keyMsg(k)
		if msg.String() != k {
			t.Fatalf("key %q builds as %q", k, msg.String())
		}
		nm, cmd := m.Update(msg)
		var seen []tea.Msg
		m, seen = settle(t, nm.(Model), cmd)
		all = append(all, seen...)
	}
	return m, all
}

// clipboard returns what a SetClipboard command among msgs would copy.
func clipboard(msgs []tea.Msg) (string, bool) {
	for _, msg := range msgs {
		if strings.Contains(reflect.TypeOf(msg).String(), "setClipboardMsg") {
			return fmt.Sprint(msg), true
		}
	}
	return "", false
}

func quits(msgs []tea.Msg) bool {
	for _, msg := range msgs {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func suffixes(m Model) []string {
	var out []string
	for _, b := range m.rows() {
		out = append(out, b.Suffix)
	}
	return out
}
