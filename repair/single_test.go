package repair

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/inspect"
)

func platform(arch string) v1.Platform { return v1.Platform{OS: "linux", Architecture: arch} }

// A single-arch backend is published as its manifest itself, no list.
func TestRepairSingleArch(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	p, m := inspect.CellPresent, inspect.CellMissing
	b := &inspect.BackendReport{Suffix: testSuffix, Kind: inspect.KindSingle, Verdict: inspect.VerdictRepairable, Legs: []inspect.Leg{{
		PlatformTag: "single", Platform: "linux/amd64", Digest: w.amd.digest,
		Cells: map[string]inspect.Cell{w.anchor(): {State: p}, w.quayTarget(): {State: m}, w.hubTarget(): {State: p}},
	}}}
	plan := w.plan(t, b, "quay")
	if plan.ListDigest != w.amd.digest || plan.ListMediaType != MediaTypeDockerManifest || string(plan.ListJSON()) != string(w.amd.raw) {
		t.Fatalf("single plan publishes %s %s, want the manifest itself", plan.ListDigest, plan.ListMediaType)
	}
	if !strings.Contains(plan.String(), "single source") {
		t.Errorf("plan text does not say the image is published as itself:\n%s", plan)
	}
	r := w.execute(t, plan)
	if r.ListWritten || len(r.Manifests) != 1 {
		t.Errorf("result %+v", r)
	}
	release, _, _ := tagNames(w)
	if got := resolve(t, w.quay, quayPath, release); got != w.amd.digest {
		t.Errorf("release tag -> %s, want %s", got, w.amd.digest)
	}
}

func TestAppendAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "remerge", "audit.jsonl")
	for _, outcome := range []string{OutcomePublished, "failed: boom"} {
		e := AuditEntry{Backend: testSuffix, Outcome: outcome, Tags: []string{"v4.2.2" + testSuffix}}
		if err := AppendAudit(path, e); err != nil {
			t.Fatal(err)
		}
	}
	lines := auditLines(t, path)
	if len(lines) != 2 || lines[0].Outcome != OutcomePublished || lines[1].Outcome != "failed: boom" {
		t.Errorf("lines %+v", lines)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, word := range []string{"password", "token", "auth"} {
		if strings.Contains(strings.ToLower(string(b)), word) {
			t.Errorf("audit log mentions %q", word)
		}
	}
}
