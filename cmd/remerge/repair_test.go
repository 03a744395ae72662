package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepairAgainstRegistry reaps a child from quay, then checks that a dry
// run and a declined confirmation write nothing, that repair --yes brings
// it back and logs it, and that inspect then exits 0.
func TestRepairAgainstRegistry(t *testing.T) {
	r := seedRelease(t)
	ctx := context.Background()
	if err := r.reg.Reap(ctx, r.quay, r.arm64.Digest); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	arm64InQuay := func() bool {
		t.Helper()
		ok, err := r.reg.ManifestExists(ctx, r.quay, r.arm64.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	t.Run("dry run", func(t *testing.T) {
		code, stdout, stderr := runArgs(t, append([]string{"repair", "--dry-run", "--audit", audit, "cpu-a"}, r.args()...)...)
		if code != exitBroken {
			t.Errorf("dry run: exit %d, want %d (nothing fixed); stderr %q", code, exitBroken, stderr)
		}
		for _, want := range []string{"-cpu-a", `"mediaType"`, "nothing written"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("dry run output lacks %q:\n%s", want, stdout)
			}
		}
		if arm64InQuay() {
			t.Error("dry run wrote the child into quay")
		}
	})

	t.Run("declined", func(t *testing.T) {
		old := stdin
		stdin = strings.NewReader("n\n")
		t.Cleanup(func() { stdin = old })
		code, stdout, _ := runArgs(t, append([]string{"repair", "--all", "--audit", audit}, r.args()...)...)
		if code != exitBroken || !strings.Contains(stdout, "aborted") {
			t.Errorf("declined: exit %d, stdout:\n%s", code, stdout)
		}
		if arm64InQuay() {
			t.Error("declined repair wrote the child into quay")
		}
	})

	t.Run("yes", func(t *testing.T) {
		code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--target", "quay", "--audit", audit}, r.args()...)...)
		if code != exitOK {
			t.Fatalf("repair: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
		if !arm64InQuay() {
			t.Error("repair did not put the arm64 child back into quay")
		}
		b, err := os.ReadFile(audit)
		if err != nil || !strings.Contains(string(b), "-cpu-a") {
			t.Errorf("audit log %s: %v, content %q", audit, err, b)
		}
	})

	t.Run("healthy afterwards", func(t *testing.T) {
		code, stdout, stderr := runArgs(t, append([]string{"inspect"}, r.args()...)...)
		if code != exitOK {
			t.Errorf("inspect after repair: exit %d, stderr %q\n%s", code, stderr, stdout)
		}
		code, stdout, _ = runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", audit}, r.args()...)...)
		if code != exitOK || !strings.Contains(stdout, "nothing to re-merge") {
			t.Errorf("second repair: exit %d, stdout:\n%s", code, stdout)
		}
	})
}

// TestRepairSaysWhatIsLeftBroken: a named backend that cannot be
// re-merged (its digest is gone everywhere) ends the run with exit 1 and a
// closing line saying why.
func TestRepairSaysWhatIsLeftBroken(t *testing.T) {
	r := seedRelease(t)
	ctx := context.Background()
	for _, repo := range []string{r.anchor, r.quay, r.hub} {
		if err := r.reg.Reap(ctx, repo, r.single.Digest); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runArgs(t, append([]string{"repair", "--yes", "cpu-b"}, r.args()...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitBroken, stderr)
	}
	i := strings.LastIndex(stdout, "left broken:")
	if i < 0 {
		t.Fatalf("no closing summary:\n%s", stdout)
	}
	summary := stdout[i:]
	for _, want := range []string{"-cpu-b: unknown: no digest known for single"} {
		if !strings.Contains(summary, want) {
			t.Errorf("closing summary lacks %q:\n%s", want, stdout)
		}
	}
}

// With --target, a backend still broken in a target left out is not
// reported fine: exit 1, and the summary names that target.
func TestRepairTargetLeavesOtherTargetBroken(t *testing.T) {
	r := seedRelease(t)
	ctx := context.Background()
	for _, repo := range []string{r.quay, r.hub} {
		if err := r.reg.Reap(ctx, repo, r.arm64.Digest); err != nil {
			t.Fatal(err)
		}
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	code, stdout, stderr := runArgs(t, append([]string{"repair", "--all", "--yes", "--target", "quay", "--audit", audit}, r.args()...)...)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	i := strings.LastIndex(stdout, "left broken:")
	if want := "-cpu-a in dockerhub: not selected (--target)"; i < 0 || !strings.Contains(stdout[i:], want) {
		t.Errorf("closing summary lacks %q:\n%s", want, stdout)
	}
	if !strings.Contains(stdout, "re-merging -cpu-a into quay") {
		t.Errorf("quay was not re-merged:\n%s", stdout)
	}
}
