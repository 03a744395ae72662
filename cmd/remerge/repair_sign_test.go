package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// cosignOnPath puts the pinned cosign on PATH, where repair --sign finds
// it, with the key pair's password in the environment, as a maintainer's
// shell would have them.
func cosignOnPath(t *testing.T, kit *tools.CosignKit) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(kit.Bin, filepath.Join(dir, "cosign")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("COSIGN_PASSWORD", tools.CosignPassword)
}

// signatures reads each backend's release-tag signature per target from
// inspect --format json.
func signatures(t *testing.T, r *seededRelease) map[string]*release.Signature {
	t.Helper()
	code, stdout, stderr := runArgs(t, append([]string{"inspect"}, r.args("--format", "json")...)...)
	if code == exitUsage {
		t.Fatalf("inspect: exit %d, %s", code, stderr)
	}
	var rep release.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]*release.Signature{}
	for _, b := range rep.Backends {
		for name, ts := range b.Targets {
			out[b.Suffix+" "+name] = ts.Tags["v1.0.0"+b.Suffix].Signature
		}
	}
	return out
}

// TestRepairSign: a release where -cpu-a is reaped from quay and signed
// only in Docker Hub and -cpu-b is published unsigned. repair --sign with
// a failing cosign publishes but exits 1 and records the failure; run
// again it signs, with CI's command, the repaired list and every list left
// unsigned, children included: cosign verify --key accepts each, and a
// second inspect shows every list signed.
func TestRepairSign(t *testing.T) {
	kit := tools.NewCosignKit(t)
	r := seedRelease(t)
	ctx := context.Background()
	hubA, err := r.reg.Resolve(ctx, r.hub, "v1.0.0-cpu-a")
	if err != nil {
		t.Fatal(err)
	}
	kit.Sign(t, r.reg.Repo(r.hub)+"@"+hubA, true, true)
	if err := r.reg.Reap(ctx, r.quay, r.arm64.Digest); err != nil {
		t.Fatal(err)
	}
	sigs := signatures(t, r)
	if s := sigs["-cpu-a dockerhub"]; s == nil || s.State != release.SigSigned || !s.Key {
		t.Errorf("-cpu-a in dockerhub before: %+v, want signed with a key", s)
	}
	for _, k := range []string{"-cpu-b quay", "-cpu-b dockerhub"} {
		if s := sigs[k]; s == nil || s.State != release.SigUnsigned {
			t.Errorf("%s before: %+v, want unsigned", k, s)
		}
	}
	if s := sigs["-cpu-a quay"]; s != nil {
		t.Errorf("-cpu-a quay before: %+v; its tag is not complete, so no signature is looked up", s)
	}

	cosignOnPath(t, kit)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	sign := append([]string{"repair", "--all", "--yes", "--audit", audit, "--sign", "--sign-key", kit.Key,
		"--cosign-arg=--tlog-upload=false", "--cosign-arg=--allow-http-registry"}, r.args()...)

	t.Setenv("COSIGN_PASSWORD", "wrong")
	code, stdout, stderr := runArgs(t, sign...)
	if code != exitBroken || !strings.Contains(stderr, "signing") {
		t.Fatalf("failing cosign: exit %d, want %d; stderr %q\n%s", code, exitBroken, stderr, stdout)
	}
	if b, _ := os.ReadFile(audit); !strings.Contains(string(b), `"signed":false,"sign_error":"signing `) {
		t.Errorf("audit log does not record the failed signing:\n%s", b)
	}

	t.Setenv("COSIGN_PASSWORD", tools.CosignPassword)
	code, stdout, stderr = runArgs(t, sign...)
	if code != exitOK {
		t.Fatalf("repair --sign: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	if b, _ := os.ReadFile(audit); strings.Count(string(b), `"signed":true`) != 3 {
		t.Errorf("audit log: want 3 signings (-cpu-a in quay, -cpu-b in both):\n%s", b)
	}
	for _, repo := range []string{r.quay, r.hub} {
		for _, ref := range []string{"v1.0.0-cpu-a", "v1.0.0-cpu-b", "@" + r.amd64.Digest, "@" + r.arm64.Digest, "@" + r.single.Digest} {
			full := r.reg.Repo(repo) + ":" + ref
			if strings.HasPrefix(ref, "@") {
				full = r.reg.Repo(repo) + ref
			}
			if out, err := kit.Verify(full, true); err != nil {
				t.Errorf("cosign verify --key %s: %v\n%s", full, err, out)
			}
		}
	}
	for k, s := range signatures(t, r) {
		if s == nil || s.State != release.SigSigned || !s.Key {
			t.Errorf("%s after: %+v, want signed with the key", k, s)
			continue
		}
		for d, c := range s.Children {
			if c.State != release.SigSigned {
				t.Errorf("%s child %s after: %s", k, d, c.State)
			}
		}
	}
}
