package release

import "testing"

// TestNeedsSigning: the one answer to "does a signing run have something
// to sign here?": a known unsigned child counts even when the list's own
// lookup failed, where Gap shows could-not-tell first.
func TestNeedsSigning(t *testing.T) {
	t.Parallel()
	child := func(st SignatureState) map[string]ChildSignature {
		return map[string]ChildSignature{"sha256:c": {State: st}}
	}
	for _, tt := range []struct {
		name string
		sig  *Signature
		want bool
		gap  SignatureGap
	}{
		{"none looked up", nil, false, GapNone},
		{"signed", &Signature{State: SigSigned, Children: child(SigSigned)}, false, GapNone},
		{"list unsigned", &Signature{State: SigUnsigned}, true, GapUnsigned},
		{"child unsigned", &Signature{State: SigSigned, Children: child(SigUnsigned)}, true, GapUnsignedChild},
		{"list unknown, child unsigned", &Signature{State: SigError, Children: child(SigUnsigned)}, true, GapCouldNotTell},
		{"child unknown", &Signature{State: SigSigned, Children: child(SigError)}, false, GapCouldNotTell},
	} {
		if got := tt.sig.NeedsSigning(); got != tt.want {
			t.Errorf("%s: NeedsSigning = %v, want %v", tt.name, got, tt.want)
		}
		if tt.sig != nil && tt.sig.Gap() != tt.gap {
			t.Errorf("%s: Gap = %v, want %v", tt.name, tt.sig.Gap(), tt.gap)
		}
	}
}
