package repair

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
)

func platform(arch string) v1.Platform { return v1.Platform{OS: "linux", Architecture: arch} }

func singleReport(w *world, f fixture) *release.BackendReport {
	p, m := release.CellPresent, release.CellMissing
	return &release.BackendReport{Suffix: testSuffix, Kind: release.KindSingle, Verdict: release.VerdictRepairable, Legs: []release.Leg{{
		PlatformTag: "single", Platform: "linux/" + f.arch, Digest: f.digest,
		Cells: map[string]release.Cell{w.anchor(): {State: p}, w.quayTarget(): {State: m}, w.hubTarget(): {State: p}},
	}}}
}

// A single-arch backend is published as a one-entry list, as buildx
// (--prefer-index, the default since v0.15) publishes it in CI: the same
// digest as real buildx over that one source, for amd64 and arm64 alike.
func TestRepairSingleArch(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			w := newWorld(t)
			w.incident(t)
			f := w.amd
			if arch == "arm64" {
				f = w.arm
			}
			plan := w.plan(t, singleReport(w, f), "quay")
			if ci := w.ciDigest(t, f); plan.ListDigest != ci || plan.ListMediaType != manifest.DockerList {
				t.Fatalf("single plan publishes %s %s, want buildx's one-entry list %s", plan.ListDigest, plan.ListMediaType, ci)
			}
			if !strings.Contains(plan.String(), "one-entry list") {
				t.Errorf("plan text does not say it is a one-entry list:\n%s", plan)
			}
			r := w.execute(t, plan)
			if !r.ListWritten || len(r.Manifests) != 1 {
				t.Errorf("result %+v", r)
			}
			release, _, _ := tagNames(w)
			if got := resolve(t, w.quay, quayPath, release); got != plan.ListDigest {
				t.Errorf("release tag -> %s, want %s", got, plan.ListDigest)
			}
		})
	}
}

// merge.prefer_index: false publishes a single source as itself, as buildx
// < 0.15 did.
func TestRepairSingleArchWithoutPreferIndex(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	off := false
	w.cfg.Merge.PreferIndex = &off
	plan := w.plan(t, singleReport(w, w.amd), "quay")
	if plan.ListDigest != w.amd.digest || plan.ListMediaType != manifest.DockerManifest || string(plan.ListJSON()) != string(w.amd.raw) {
		t.Fatalf("single plan publishes %s %s, want the manifest itself", plan.ListDigest, plan.ListMediaType)
	}
	if !strings.Contains(plan.String(), "published as itself") {
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
