package inspect

// This file answers "what does this signature lack?" (Gap, for what the
// views and the gate show) and "does a signing run have something to sign
// here?" (NeedsSigning, for repair --sign and the TUI's sign): one reading
// of the signature states for both.

// SignatureGap is what a list's signature lacks, by precedence: the list's
// own signature, then could-not-tell about it, then an unsigned child,
// then could-not-tell about a child.
type SignatureGap int

// Signature gaps.
const (
	GapNone          SignatureGap = iota // the list and every child signed
	GapUnsigned                          // the list is unsigned
	GapUnsignedChild                     // the list is signed, a child is not
	GapCouldNotTell                      // a lookup failed
)

// Gap says what the signature lacks, the most telling gap first. Who
// signed is not judged here (Expected).
func (s *Signature) Gap() SignatureGap {
	switch s.State {
	case SigUnsigned:
		return GapUnsigned
	case SigError:
		return GapCouldNotTell
	}
	switch {
	case s.anyChild(SigUnsigned):
		return GapUnsignedChild
	case s.anyChild(SigError):
		return GapCouldNotTell
	}
	return GapNone
}

// NeedsSigning reports whether a signing run has something to sign: the
// list, or one of its children, was found unsigned. A failed lookup of the
// list does not hide a child known to be unsigned (Gap, which ranks what
// to show, puts could-not-tell about the list first). Nil-safe: no
// signature looked up is nothing to sign.
func (s *Signature) NeedsSigning() bool {
	return s != nil && (s.State == SigUnsigned || s.anyChild(SigUnsigned))
}

// anyChild reports whether some child's signature is in state st.
func (s *Signature) anyChild(st SignatureState) bool {
	for _, c := range s.Children {
		if c.State == st {
			return true
		}
	}
	return false
}

// ReleaseSignature is the signature of the target's release (or branch)
// tag; nil when there is no such tag, or no signature was looked up.
// Nil-safe on ts.
func (ts *TargetStatus) ReleaseSignature() *Signature {
	if ts == nil {
		return nil
	}
	if rt := ts.ReleaseTag(); rt != "" {
		return ts.Tags[rt].Signature
	}
	return nil
}
