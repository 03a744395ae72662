package report

import (
	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/release"
)

// Mark is how a target's signature state is drawn, the same in every
// renderer and in the TUI: a symbol that alone tells the states apart,
// and the words of the legend.
type Mark = glyphs.Glyph

// Signature marks, in the order of SignatureLegend.
var (
	MarkSigned   = Mark{Sym: "✓", Word: "signed by the expected identity"}
	MarkOther    = Mark{Sym: "≠", Word: "signed by another identity, or with a key"}
	MarkPartly   = Mark{Sym: "±", Word: "list signed, a child not"}
	MarkUnsigned = Mark{Sym: "∅", Word: "unsigned"}
	MarkSigError = Mark{Sym: "?", Word: "could not tell"}
)

// SignatureLegend explains the marks.
var SignatureLegend = []string{MarkSigned.Legend(), MarkOther.Legend(), MarkPartly.Legend(), MarkUnsigned.Legend(), MarkSigError.Legend()}

// SignatureMark is the mark of the signature of a target's release tag,
// and false when none was looked up (the tag is not complete, or a darwin
// image, which is never signed).
func SignatureMark(t *release.TargetStatus) (Mark, bool) {
	sig := t.ReleaseSignature()
	if sig == nil {
		return Mark{}, false
	}
	return SigMark(sig), true
}

// SigMark is the mark of one signature.
func SigMark(sig *release.Signature) Mark {
	switch sig.Gap() {
	case release.GapUnsigned:
		return MarkUnsigned
	case release.GapUnsignedChild:
		return MarkPartly
	case release.GapCouldNotTell:
		return MarkSigError
	}
	switch {
	case sig.Expected():
		return MarkSigned
	case sig.Key || (sig.IdentityOK != nil && !*sig.IdentityOK):
		return MarkOther
	default: // signed, but who signed could not be read
		return MarkSigError
	}
}
