package tui

import (
	"fmt"
	"strings"
	"testing"
)

// TestOverlayEdges opens every dialog at several sizes and checks that
// the cells beside a box's left and right borders are blank: no selection
// marker, header letter or status text touches a border and reads as part
// of the box. The old overlay drew a 78-column box at 80 columns with the
// table showing in columns 0 and 79.
func TestOverlayEdges(t *testing.T) {
	t.Parallel()
	opens := map[string][]string{
		"confirm": {"down", "r"}, "repair_all": {"R"}, "release": {"i"},
		"runs": {"u"}, "help": {"?"}, "help_end": {"?", "end"},
	}
	for _, size := range [][2]int{{80, 24}, {100, 30}, {160, 48}} {
		for name, keys := range opens {
			t.Run(fmt.Sprintf("%dx%d_%s", size[0], size[1], name), func(t *testing.T) {
				t.Parallel()
				m := started(t, newFake(), size[0], size[1])
				m, _ = press(t, m, keys...)
				if m.dialogs.front() == nil {
					t.Fatalf("%v opened no dialog", keys)
				}
				rows := 0
				for i, l := range strings.Split(stripped(m.View().Content), "\n") {
					r := []rune(l)
					left := strings.IndexAny(l, "╔║╚")
					if left < 0 {
						continue
					}
					rows++
					lc := len([]rune(l[:left]))
					rc := lc
					for j := len(r) - 1; j > lc; j-- {
						if strings.ContainsRune("╗║╝", r[j]) {
							rc = j
							break
						}
					}
					if lc > 0 && r[lc-1] != ' ' {
						t.Errorf("line %d: %q touches the left border", i, r[lc-1])
					}
					if rc+1 < len(r) && r[rc+1] != ' ' {
						t.Errorf("line %d: %q touches the right border", i, r[rc+1])
					}
				}
				if rows < 4 {
					t.Errorf("found %d box rows; the dialog is not drawn:\n%s", rows, stripped(m.View().Content))
				}
			})
		}
	}
}
