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
	long := func() *fakeService { f := newFake(); f.longPlan = true; return f }
	states := []struct {
		name string
		keys []string
		fake func() *fakeService // default newFake
	}{
		{"table", nil, nil},
		{"detail", []string{"down", "enter"}, nil},
		{"dialog", []string{"down", "r"}, nil},
		{"dialog_long", []string{"down", "r"}, long},
		{"dialog_long_scrolled", []string{"down", "r", "pgdown", "down"}, long},
		{"refused", []string{"down", "down", "r"}, nil},
		{"repair_all", []string{"R"}, nil},
		{"help", []string{"?"}, nil},
		{"help_scrolled", []string{"?", "end"}, nil},
		{"broken_by_verdict", []string{"b", "s"}, nil},
		{"filtering", []string{"/", "w", "h"}, nil},
		{"filtered_long", append(append([]string{"/"}, strings.Split("whisper-with-a-very-long-filter-text-indeed", "")...), "enter"), nil},
		{"runs", []string{"u", "down"}, nil},
		{"release", []string{"i"}, nil},
		{"repaired_detail", []string{"down", "r", "y", "enter"}, nil},
		{"repaired_detail_right", []string{"down", "r", "y", "enter", "right", "right"}, nil},
		{"copied", []string{"down", "c"}, nil},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, st := range states {
			t.Run(fmt.Sprintf("%dx%d_%s", size[0], size[1], st.name), func(t *testing.T) {
				t.Parallel()
				f := newFake()
				if st.fake != nil {
					f = st.fake()
				}
				m := started(t, f, size[0], size[1])
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
