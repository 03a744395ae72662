package tui

import (
	"fmt"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

func lipglossWidth(s string) int { return ansi.StringWidth(s) }

// backgroundMsg is what a dark or light terminal answers to
// tea.RequestBackgroundColor.
func backgroundMsg(dark bool) tea.BackgroundColorMsg {
	if dark {
		return tea.BackgroundColorMsg{Color: color.Black}
	}
	return tea.BackgroundColorMsg{Color: color.White}
}

// TestGolden renders the fixture at the compact and the wide size in every
// screen state and compares the text (ANSI stripped) with testdata. Run
// `go test ./tui -run TestGolden -update` after a deliberate change.
func TestGolden(t *testing.T) {
	t.Parallel()
	states := []struct {
		name string
		keys []string
	}{
		{"table", nil},
		{"detail", []string{"down", "enter"}},
		{"dialog", []string{"down", "r"}},
		{"refused", []string{"down", "down", "r"}},
		{"repair_all", []string{"R"}},
		{"help", []string{"?"}},
		{"broken_by_verdict", []string{"b", "s"}},
		{"filtering", []string{"/", "w", "h"}},
		{"runs", []string{"u", "down"}},
		{"release", []string{"i"}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, st := range states {
			t.Run(fmt.Sprintf("%dx%d_%s", size[0], size[1], st.name), func(t *testing.T) {
				t.Parallel()
				m := started(t, newFake(), size[0], size[1])
				m, _ = press(t, m, st.keys...)
				v := m.View()
				if !v.AltScreen {
					t.Error("the TUI must use the alternate screen")
				}
				golden.RequireEqual(t, stripped(v.Content))
			})
		}
	}
}

// stripped drops ANSI and trailing blanks so goldens only hold the text.
func stripped(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestNoColor checks that colourless styles emit no colour sequence at all
// while the colour ones do: NO_COLOR is honoured, glyphs still tell states
// apart.
func TestNoColor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		noColor bool
	}{{"plain", true}, {"colour", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := started(t, newFake(), 160, 48, WithNoColor(tt.noColor))
			if !tt.noColor {
				nm, _ := m.Update(backgroundMsg(true))
				m = nm.(Model)
			}
			out := m.render()
			hasColour := strings.Contains(out, "\x1b[38;") || strings.Contains(out, "\x1b[48;")
			if hasColour == tt.noColor {
				t.Errorf("colour sequences present = %v with noColor = %v", hasColour, tt.noColor)
			}
			for _, glyph := range []string{"✓ ok", "↻ repairable", "✗ unrepairable", "⚠ conflict", "? unknown", "… pending"} {
				if !strings.Contains(ansi.Strip(out), glyph) {
					t.Errorf("view lacks %q", glyph)
				}
			}
		})
	}
}
