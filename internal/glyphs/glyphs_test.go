package glyphs

import (
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestSymbolsTellStatesApart: within one kind of state every symbol is
// different, and no word is cut, so colour is never needed to read them.
func TestSymbolsTellStatesApart(t *testing.T) {
	t.Parallel()
	sets := map[string][]Glyph{}
	for _, e := range verdicts {
		sets["verdict"] = append(sets["verdict"], e.g)
	}
	for _, e := range cells {
		sets["cell"] = append(sets["cell"], e.g)
	}
	sets["cell"] = append(sets["cell"], BlobsMissing, NotProbed)
	for _, e := range tags {
		sets["tag"] = append(sets["tag"], e.g)
	}
	for name, set := range sets {
		seen := map[string]string{}
		for _, g := range set {
			if other, dup := seen[g.Sym]; dup {
				t.Errorf("%s: %q is both %s and %s", name, g.Sym, other, g.Word)
			}
			seen[g.Sym] = g.Word
		}
	}
}

// TestEveryStateHasAGlyph: a state added to inspect without a glyph would
// draw as pending, which is a lie; every named state has its own.
func TestEveryStateHasAGlyph(t *testing.T) {
	t.Parallel()
	for _, v := range []release.Verdict{release.VerdictOK, release.VerdictRepairable, release.VerdictUnrepairable,
		release.VerdictConflict, release.VerdictUnknown, release.VerdictNotBuilt} {
		if Verdict(v) == Verdict(release.VerdictPending) {
			t.Errorf("verdict %s draws as pending", v)
		}
	}
	for _, c := range []release.CellState{release.CellPresent, release.CellMissing, release.CellDenied, release.CellError, release.CellUnknown} {
		if Cell(c) == Cell(release.CellPending) {
			t.Errorf("cell %s draws as pending", c)
		}
	}
	for _, s := range []release.TagState{release.TagComplete, release.TagPartial, release.TagStale, release.TagDangling,
		release.TagBroken, release.TagMissing, release.TagDenied, release.TagError} {
		if Tag(s) == Tag(release.TagPending) {
			t.Errorf("tag %s draws as pending", s)
		}
	}
}
