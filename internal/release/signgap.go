package release

import (
	"fmt"
	"sort"
	"strings"
)

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

// Describe says in a few words who signed: "CI's identity", "a key (no
// identity)", "<identity>", for prose and the detail pane.
func (s *Signature) Describe() string {
	switch s.State {
	case SigUnsigned:
		return "unsigned"
	case SigError:
		return "could not tell whether signed: " + s.Error
	}
	var b strings.Builder
	b.WriteString("signed")
	switch {
	case s.Key:
		b.WriteString(" with a key (no identity)")
	case len(s.Identities) > 0:
		b.WriteString(" by " + strings.Join(s.Identities, ", "))
		if s.IdentityOK != nil && !*s.IdentityOK {
			b.WriteString(" (not the expected identity)")
		}
	case s.Error != "":
		b.WriteString(" (" + s.Error + ")")
	}
	if s.Storage != "" {
		b.WriteString(" [" + s.Storage + "]")
	}
	if n, bad := s.ChildrenNotSigned(); len(bad) > 0 {
		fmt.Fprintf(&b, "; %d of %d children not signed", len(bad), n)
	}
	return b.String()
}

// Expected: signed by the configured identity.
func (s *Signature) Expected() bool {
	return s.State == SigSigned && s.IdentityOK != nil && *s.IdentityOK
}

// ChildrenNotSigned returns the number of children and those not known to
// be signed, sorted.
func (s *Signature) ChildrenNotSigned() (int, []string) {
	var bad []string
	for d, c := range s.Children {
		if c.State != SigSigned {
			bad = append(bad, d)
		}
	}
	sort.Strings(bad)
	return len(s.Children), bad
}

// Clone returns a deep copy of the signature.
func (s *Signature) Clone() *Signature {
	if s == nil {
		return nil
	}
	c := *s
	c.Identities = append([]string(nil), s.Identities...)
	if s.IdentityOK != nil {
		ok := *s.IdentityOK
		c.IdentityOK = &ok
	}
	if s.Children != nil {
		c.Children = make(map[string]ChildSignature, len(s.Children))
		for k, v := range s.Children {
			c.Children[k] = v
		}
	}
	return &c
}
