package tui

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestWrapLineKeepsWords: lines break at spaces only, never inside a repo,
// digest, tag, suffix or flag (which all hold hyphens, slashes or colons);
// continuation lines are indented past the line's own indent; a word longer
// than a line is cut with "…" (dialogs) or continued whole (detail pane).
func TestWrapLineKeepsWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		w    int
		ov   overflow
		want []string
	}{
		{"fits", "tags v4.2.2-cpu-kokoro", 40, cutWord, []string{"tags v4.2.2-cpu-kokoro"}},
		{"suffix kept whole", "quay: write list, tags latest-cpu-chatterbox", 30, cutWord,
			[]string{"quay: write list, tags", "  latest-cpu-chatterbox"}},
		{"flag kept whole", "conflict: re-run with --force to replace it", 22, cutWord,
			[]string{"conflict: re-run with", "  --force to replace", "  it"}},
		{"indented line hangs deeper", "  amd64  sha256:9b5b copy manifest from quay.io/go-skynet/ci-cache", 40, cutWord,
			[]string{"  amd64  sha256:9b5b copy manifest from", "    quay.io/go-skynet/ci-cache"}},
		{"bullet hangs under its text", "  • reaped from quay.io/go-skynet/local-ai-backends", 30, cutWord,
			[]string{"  • reaped from", "    quay.io/go-skynet/local-a…"}},
		{"long word cut", "list sha256:4d343ac86dcc4a73270b4b743de4770a1367a7a8d691255238a0ad9328f61d45 bytes", 30, cutWord,
			[]string{"list", "  sha256:4d343ac86dcc4a73270b…", "  bytes"}},
		{"long word continued whole", "list sha256:4d343ac86dcc4a73270b4b743de4770a1367a7a8d691255238a0ad9328f61d45", 30, breakWord,
			[]string{"list", "  sha256:4d343ac86dcc4a73270b4", "  b743de4770a1367a7a8d69125523", "  8a0ad9328f61d45"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapLine(tt.in, tt.w, tt.ov)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("wrapLine(%q, %d) =\n%s\nwant\n%s", tt.in, tt.w, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, l := range got {
				if ansi.StringWidth(l) > tt.w {
					t.Errorf("line %q is wider than %d", l, tt.w)
				}
			}
		})
	}
}

// TestWrapLineKeepsStyles: a styled line wraps by its text and keeps its
// style on every piece.
func TestWrapLineKeepsStyles(t *testing.T) {
	t.Parallel()
	st := lipgloss.NewStyle().Bold(true)
	got := wrapLine(st.Render("refused: conflict in quay.io/go-skynet/local-ai-backends"), 30, cutWord)
	if len(got) != 2 || ansi.Strip(got[1]) != "  quay.io/go-skynet/local-ai-…" {
		t.Fatalf("wrapped = %q", got)
	}
	for _, l := range got {
		if !strings.Contains(l, "\x1b[") {
			t.Errorf("line %q lost its style", l)
		}
	}
}
