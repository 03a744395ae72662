// Package glyphs is the one picture of every state remerge draws: the TUI,
// the text table and the markdown report all take their symbols and words
// from here, so a glyph means the same thing on every face and the legends
// cannot drift from what is drawn.
package glyphs

import "github.com/go-skynet/remerge/inspect"

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
	v inspect.Verdict
	g Glyph
}{
	{inspect.VerdictOK, Glyph{"✓", "ok"}},
	{inspect.VerdictRepairable, Glyph{"↻", "repairable"}},
	{inspect.VerdictUnrepairable, Glyph{"✗", "unrepairable"}},
	{inspect.VerdictConflict, Glyph{"⚠", "conflict"}},
	{inspect.VerdictUnknown, Glyph{"?", "unknown"}},
	{inspect.VerdictPending, Glyph{"…", "pending"}},
	{inspect.VerdictNotBuilt, Glyph{"–", "not built"}},
}

var cells = []struct {
	c inspect.CellState
	g Glyph
}{
	{inspect.CellPresent, Glyph{"●", "present"}},
	{inspect.CellMissing, Glyph{"○", "missing"}},
	{inspect.CellDenied, Glyph{"⊘", "denied"}},
	{inspect.CellError, Glyph{"!", "error"}},
	{inspect.CellPending, Glyph{"·", "pending"}},
	{inspect.CellUnknown, Glyph{"?", "unknown"}},
}

var tags = []struct {
	t inspect.TagState
	g Glyph
}{
	{inspect.TagComplete, Glyph{"✓", "complete"}},
	{inspect.TagPartial, Glyph{"◐", "partial"}},
	{inspect.TagStale, Glyph{"↺", "stale"}},
	{inspect.TagDangling, Glyph{"⚯", "dangling"}},
	{inspect.TagMissing, Glyph{"○", "missing"}},
	{inspect.TagDenied, Glyph{"⊘", "denied"}},
	{inspect.TagError, Glyph{"!", "error"}},
	{inspect.TagBroken, Glyph{"✗", "broken"}},
	{inspect.TagPending, Glyph{"·", "pending"}},
	{inspect.TagUnknown, Glyph{"?", "unknown"}},
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
func Verdict(v inspect.Verdict) Glyph {
	for _, e := range verdicts {
		if e.v == v {
			return e.g
		}
	}
	return Verdict(inspect.VerdictPending)
}

// Cell is the glyph of a cell state; an unknown value draws as pending.
func Cell(c inspect.CellState) Glyph {
	for _, e := range cells {
		if e.c == c {
			return e.g
		}
	}
	return Cell(inspect.CellPending)
}

// Tag is the glyph of a published state; an unknown value draws as pending.
func Tag(t inspect.TagState) Glyph {
	for _, e := range tags {
		if e.t == t {
			return e.g
		}
	}
	return Tag(inspect.TagPending)
}

// ProbedCell is the glyph of a cell as the report holds it: ok is false
// when the repo was not probed for the leg, and a present cell with
// unlinked blobs has its own glyph.
func ProbedCell(c inspect.Cell, ok bool) Glyph {
	switch {
	case !ok:
		return NotProbed
	case c.State == inspect.CellPresent && len(c.MissingBlobs) > 0:
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
	out := []string{Cell(inspect.CellPresent).Legend(), BlobsMissing.Legend()}
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
