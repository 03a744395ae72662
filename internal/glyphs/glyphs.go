// Package glyphs is the one picture of every state remerge draws: the TUI,
// the text table and the markdown report all take their symbols and words
// from here, so a glyph means the same thing on every face and the legends
// cannot drift from what is drawn.
package glyphs

import (
	"github.com/go-skynet/remerge/internal/release"
)

// Glyph is how one state is drawn: a symbol that alone tells the state
// apart from its neighbours without colour, and the full word for layouts
// with room. There is deliberately no abbreviation: a cut word reads as a
// typo ("unknwn"), so narrow layouts show the symbol and the legend.
type Glyph struct {
	Sym, Word string
}

// Legend is "● present", the symbol and its word.
func (g Glyph) Legend() string { return g.Sym + " " + g.Word }

var verdicts = []struct {
	v release.Verdict
	g Glyph
}{
	{release.VerdictOK, Glyph{"✓", "ok"}},
	{release.VerdictRepairable, Glyph{"↻", "repairable"}},
	{release.VerdictUnrepairable, Glyph{"✗", "unrepairable"}},
	{release.VerdictConflict, Glyph{"⚠", "conflict"}},
	{release.VerdictUnknown, Glyph{"?", "unknown"}},
	{release.VerdictPending, Glyph{"…", "pending"}},
	{release.VerdictNotBuilt, Glyph{"–", "not built"}},
}

var cells = []struct {
	c release.CellState
	g Glyph
}{
	{release.CellPresent, Glyph{"●", "present"}},
	{release.CellMissing, Glyph{"○", "missing"}},
	{release.CellDenied, Glyph{"⊘", "denied"}},
	{release.CellError, Glyph{"!", "error"}},
	{release.CellPending, Glyph{"·", "pending"}},
	{release.CellUnknown, Glyph{"?", "unknown"}},
}

var tags = []struct {
	t release.TagState
	g Glyph
}{
	{release.TagComplete, Glyph{"✓", "complete"}},
	{release.TagPartial, Glyph{"◐", "partial"}},
	{release.TagStale, Glyph{"↺", "stale"}},
	{release.TagDangling, Glyph{"⚯", "dangling"}},
	{release.TagMissing, Glyph{"○", "missing"}},
	{release.TagDenied, Glyph{"⊘", "denied"}},
	{release.TagError, Glyph{"!", "error"}},
	{release.TagBroken, Glyph{"✗", "broken"}},
	{release.TagPending, Glyph{"·", "pending"}},
	{release.TagUnknown, Glyph{"?", "unknown"}},
}

// BlobsMissing is a present cell whose blobs are not all linked in its repo
// (found by --deep).
var BlobsMissing = Glyph{"◐", "present, blobs missing"}

// NotProbed is a cell remerge does not probe for this kind of backend (the
// anchor of a darwin image, which has none).
var NotProbed = Glyph{"-", "not probed"}

// UserFacing flags a target whose user-facing tag (latest or the branch)
// is not complete: users pull an old image or fail to pull.
var UserFacing = Glyph{"⚑", "latest or branch tag not on this release"}

// Verdict is the glyph of a verdict; an unknown value draws as pending.
func Verdict(v release.Verdict) Glyph {
	for _, e := range verdicts {
		if e.v == v {
			return e.g
		}
	}
	return Verdict(release.VerdictPending)
}

// Cell is the glyph of a cell state; an unknown value draws as pending.
func Cell(c release.CellState) Glyph {
	for _, e := range cells {
		if e.c == c {
			return e.g
		}
	}
	return Cell(release.CellPending)
}

// Tag is the glyph of a published state; an unknown value draws as pending.
func Tag(t release.TagState) Glyph {
	for _, e := range tags {
		if e.t == t {
			return e.g
		}
	}
	return Tag(release.TagPending)
}

// ProbedCell is the glyph of a cell as the report holds it: ok is false
// when the repo was not probed for the leg, and a present cell with
// unlinked blobs has its own glyph.
func ProbedCell(c release.Cell, ok bool) Glyph {
	switch {
	case !ok:
		return NotProbed
	case c.State == release.CellPresent && len(c.MissingBlobs) > 0:
		return BlobsMissing
	}
	return Cell(c.State)
}

// VerdictLegend lists every verdict glyph, in order of the words of
// DESIGN.md section 3.
func VerdictLegend() []string {
	out := make([]string, 0, len(verdicts))
	for _, e := range verdicts {
		out = append(out, e.g.Legend())
	}
	return out
}

// CellLegend lists every cell glyph, including the present-but-blobs-
// missing and not-probed pictures, in the order they are explained.
func CellLegend() []string {
	out := []string{Cell(release.CellPresent).Legend(), BlobsMissing.Legend()}
	for _, e := range cells[1:] {
		out = append(out, e.g.Legend())
	}
	return append(out, NotProbed.Legend())
}

// TagLegend lists every published-state glyph.
func TagLegend() []string {
	out := make([]string, 0, len(tags))
	for _, e := range tags {
		out = append(out, e.g.Legend())
	}
	return out
}
