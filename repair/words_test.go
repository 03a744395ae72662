package repair

import (
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestLegActionWords: a leg whose blobs are all in the target says so,
// instead of "mount 0 of 3 blobs (0 B, no bytes move)".
func TestLegActionWords(t *testing.T) {
	t.Parallel()
	src := "quay.io/go-skynet/ci-cache"
	blobs := func(missing ...bool) []Blob {
		var out []Blob
		for _, m := range missing {
			out = append(out, Blob{Size: 1024, Missing: m})
		}
		return out
	}
	tests := []struct {
		name string
		leg  LegPlan
		want string
	}{
		{"in the target", LegPlan{Kind: SourceTarget, Blobs: blobs(false)}, "already in the target"},
		{"mount nothing", LegPlan{Kind: SourceMount, Source: src, Blobs: blobs(false, false, false)}, "copy manifest from " + src + "; blobs already there"},
		{"copy nothing", LegPlan{Kind: SourceCopy, Source: src, Blobs: blobs(false)}, "copy manifest from " + src + "; blobs already there"},
		{"mount some", LegPlan{Kind: SourceMount, Source: src, Blobs: blobs(true, false, true)}, "copy manifest from " + src + "; mount 2 of 3 blobs (2.0 KiB, no bytes move)"},
		{"copy some", LegPlan{Kind: SourceCopy, Source: src, Blobs: blobs(true)}, "copy manifest from " + src + "; copy 1 of 1 blobs (1.0 KiB)"},
	}
	for _, tt := range tests {
		if got := legAction(tt.leg); got != tt.want {
			t.Errorf("%s: legAction = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRefusalCarriesTheCause: an unknown backend whose digest could not be
// told because a registry was unreachable says so in the refusal.
func TestRefusalCarriesTheCause(t *testing.T) {
	t.Parallel()
	cause := "could not list the anchor repo 127.0.0.1:1/ci-cache to pick a run: could not reach 127.0.0.1:1: connection refused"
	b := &release.BackendReport{Suffix: "-cpu-a", Kind: release.KindMultiarch, Verdict: release.VerdictUnknown,
		Legs: []release.Leg{{PlatformTag: "amd64", Digest: "sha256:aa"}, {PlatformTag: "arm64", DigestError: cause}}}
	got := refusal(b, "quay", false)
	if !strings.Contains(got, "arm64") || !strings.Contains(got, "could not reach 127.0.0.1:1: connection refused") {
		t.Errorf("refusal = %q, want the arm64 leg and its cause", got)
	}
	b.Legs[1].DigestError = ""
	if got := refusal(b, "quay", false); !strings.Contains(got, "no digest") {
		t.Errorf("refusal without a cause = %q", got)
	}
}
