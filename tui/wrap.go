package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Wrapping never breaks inside a word: repo names, digests, tags,
// suffixes and flags are all words with hyphens, slashes or colons in
// them, and a line broken at "-cpu-" / "chatterbox" or "--" / "force"
// reads as two things. lipgloss and x/ansi wrap at hyphens, so remerge
// has its own wrapper, which breaks at spaces only.

// overflow is what wrapLine does with a word longer than a whole line.
type overflow int

const (
	// cutWord ends the word with "…": dialogs and the status line, whose
	// full text is in the detail pane.
	cutWord overflow = iota
	// breakWord continues the word on the next line: the detail pane,
	// which is where a long word is shown whole.
	breakWord
)

// wrapLine breaks l (which may hold ANSI styles) at spaces into lines of at
// most w cells. Continuation lines are indented two cells past the line's
// own indent, so they read as part of it (under a bullet's text for
// "  • item"); a very deep indent is not repeated.
func wrapLine(l string, w int, ov overflow) []string {
	if w <= 0 {
		return []string{""}
	}
	if ansi.StringWidth(l) <= w {
		return []string{l}
	}
	plain := ansi.Strip(l)
	indent := len(plain) - len(strings.TrimLeft(plain, " "))
	hang := indent + 2
	if hang > w/2 {
		hang = min(2, w/4)
	}
	words := wordSpans(plain)
	var out []string
	lineStart, lineEnd := 0, 0 // cells of the current line in l
	first := true
	capacity := func() int {
		if first {
			return w
		}
		return w - hang
	}
	emit := func() {
		text := ansi.Cut(l, lineStart, lineEnd)
		if !first {
			text = strings.Repeat(" ", hang) + text
		}
		out = append(out, text)
		first = false
	}
	open := false // the current line holds at least one word
	for _, wd := range words {
		if !open {
			if first {
				lineStart = 0 // keep the line's own indent
			} else {
				lineStart = wd.start
			}
		}
		if wd.end-lineStart <= capacity() {
			lineEnd, open = wd.end, true
			continue
		}
		if open {
			emit()
			lineStart, open = wd.start, false
		}
		// wd starts a line of its own.
		for wd.end-wd.start > capacity() {
			c := capacity()
			if ov == cutWord {
				out = append(out, indentFor(first, hang)+ansi.Truncate(ansi.Cut(l, wd.start, wd.end), c, "…"))
				first = false
				wd.start = wd.end
				break
			}
			out = append(out, indentFor(first, hang)+ansi.Cut(l, wd.start, wd.start+c))
			first = false
			wd.start += c
		}
		if wd.end > wd.start {
			lineStart, lineEnd, open = wd.start, wd.end, true
		}
	}
	if open {
		emit()
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}

func indentFor(first bool, hang int) string {
	if first {
		return ""
	}
	return strings.Repeat(" ", hang)
}

// span is one word of a line, as cell offsets [start, end).
type span struct{ start, end int }

// wordSpans finds the words of plain text, split at spaces only.
func wordSpans(plain string) []span {
	var out []span
	pos, start := 0, -1
	for _, r := range plain {
		cw := ansi.StringWidth(string(r))
		if r == ' ' {
			if start >= 0 {
				out = append(out, span{start, pos})
				start = -1
			}
		} else if start < 0 {
			start = pos
		}
		pos += cw
	}
	if start >= 0 {
		out = append(out, span{start, pos})
	}
	return out
}

// wrapLines wraps every line of ls.
func wrapLines(ls []string, w int, ov overflow) []string {
	var out []string
	for _, l := range ls {
		out = append(out, wrapLine(l, w, ov)...)
	}
	return out
}

// cutLine fits one line into w cells, ending it with "…" when it is cut.
func cutLine(l string, w int) string {
	if ansi.StringWidth(l) <= w {
		return l
	}
	return ansi.Truncate(l, w, "…")
}
