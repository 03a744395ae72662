package tui

import (
	"strings"
	"testing"
)

// TestReleasePane: release-wide problems are announced in the status line
// after an inspection and listed by i, which esc (or i again) closes.
func TestReleasePane(t *testing.T) {
	t.Parallel()
	m := started(t, newFake(), 160, 48)
	if !strings.Contains(m.statusBar.text, "2 release-wide problem(s): i shows them") {
		t.Errorf("status %q does not announce the release-wide problems", m.statusBar.text)
	}
	for _, close := range []string{"esc", "i"} {
		m, _ = press(t, m, "i")
		if !m.showRelease() {
			t.Fatal("i did not open the release pane")
		}
		view := stripped(m.View().Content)
		for _, want := range []string{"Release-wide problems (2)", "matrix line 812", "docker login registry.example.com", "anchor"} {
			if !strings.Contains(view, want) {
				t.Errorf("release pane lacks %q:\n%s", want, view)
			}
		}
		m, _ = press(t, m, "down") // keys do not reach the table behind it
		if m.selected != "-cpu-kokoro" {
			t.Errorf("a key moved the table under the release pane: selected %q", m.selected)
		}
		m, _ = press(t, m, close)
		if m.showRelease() {
			t.Errorf("%s did not close the release pane", close)
		}
	}
}
