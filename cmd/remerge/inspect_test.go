package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// seededRelease is a healthy two-backend release seeded in one loopback registry
// standing for the anchor repo and both targets.
type seededRelease struct {
	reg                  *testreg.Registry
	anchor, quay, hub    string // repo paths inside reg
	config               string // config file pointing at reg
	amd64, arm64, single testreg.Image
}

const e2eMatrix = `include:
  - platforms: 'linux/amd64'
    platform-tag: 'amd64'
    tag-suffix: '-cpu-a'
    backend: "a"
  - platforms: 'linux/arm64'
    platform-tag: 'arm64'
    tag-suffix: '-cpu-a'
    backend: "a"
  - platforms: 'linux/amd64'
    tag-suffix: '-cpu-b'
    backend: "b"
`

func seedRelease(t *testing.T, opts ...testreg.Option) *seededRelease {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	r := &seededRelease{reg: testreg.Start(t, opts...), anchor: "go-skynet/ci-cache", quay: "go-skynet/local-ai-backends", hub: "localai/localai-backends"}

	dir := t.TempDir()
	matrix := filepath.Join(dir, "matrix.yml")
	r.config = filepath.Join(dir, "remerge.yaml")
	cfg := fmt.Sprintf("matrix: %s\nanchor: %s\ntargets:\n  - name: quay\n    repo: %s\n  - name: dockerhub\n    repo: %s\n",
		matrix, r.reg.Repo(r.anchor), r.reg.Repo(r.quay), r.reg.Repo(r.hub))
	for path, body := range map[string]string{matrix: e2eMatrix, r.config: cfg} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	push := func(plat v1.Platform, seed int64, ptag, suffix string) testreg.Image {
		img, err := testreg.NewImage(plat, testreg.ImageOptions{Seed: seed, Layers: 1, LayerSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		var info testreg.Image
		for _, repo := range []string{r.anchor, r.quay, r.hub} {
			if info, err = r.reg.PutImage(ctx, repo, img); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.reg.Tag(ctx, r.anchor, release.KeepaliveTag("42", suffix, ptag), info.Digest); err != nil {
			t.Fatal(err)
		}
		return info
	}
	r.amd64 = push(v1.Platform{OS: "linux", Architecture: "amd64"}, 1, "amd64", "-cpu-a")
	r.arm64 = push(v1.Platform{OS: "linux", Architecture: "arm64"}, 2, "arm64", "-cpu-a")
	r.single = push(v1.Platform{OS: "linux", Architecture: "amd64"}, 3, "single", "-cpu-b")
	for _, repo := range []string{r.quay, r.hub} {
		if _, err := r.reg.PublishList(ctx, repo, []string{"v1.0.0-cpu-a", "latest-cpu-a"}, r.amd64, r.arm64); err != nil {
			t.Fatal(err)
		}
		if err := r.reg.PublishSingle(ctx, repo, []string{"v1.0.0-cpu-b", "latest-cpu-b"}, r.single); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *seededRelease) args(extra ...string) []string {
	return append([]string{"--config", r.config, "--release", "v1.0.0", "--run", "42"}, extra...)
}

// TestInspectAgainstRegistry runs inspect end to end against a real
// registry: a healthy release exits 0; once quay has reaped a child, the
// same command exits 1 and every format says which backend is broken.
func TestInspectAgainstRegistry(t *testing.T) {
	r := seedRelease(t)

	code, stdout, stderr := runArgs(t, append([]string{"inspect"}, r.args("--format", "json")...)...)
	if code != exitOK {
		t.Fatalf("healthy release: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	var rep release.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("inspect --format json is not a report: %v\n%s", err, stdout)
	}
	if rep.Summary.OK != 2 || len(rep.Backends) != 2 {
		t.Errorf("healthy release: summary %+v, %d backends", rep.Summary, len(rep.Backends))
	}

	code, stdout, _ = runArgs(t, append([]string{"inspect"}, r.args("--format", "json", "--backend", "cpu-b")...)...)
	if err := json.Unmarshal([]byte(stdout), &rep); code != exitOK || err != nil || len(rep.Backends) != 1 || rep.Backends[0].Suffix != "-cpu-b" {
		t.Errorf("--backend cpu-b: exit %d, err %v, backends %d", code, err, len(rep.Backends))
	}

	if err := r.reg.Reap(context.Background(), r.quay, r.arm64.Digest); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		format string
		want   string
	}{
		{"table", "-cpu-a"},
		{"json", `"verdict": "repairable"`},
		{"markdown", "| `-cpu-a` |"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, append([]string{"inspect"}, r.args("--format", tt.format)...)...)
			if code != exitBroken {
				t.Errorf("reaped child: exit %d, want %d; stderr %q", code, exitBroken, stderr)
			}
			if stderr != "" {
				t.Errorf("a broken release is an answer, not an error; stderr %q", stderr)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, stdout)
			}
		})
	}
}

// TestRunsLists checks that runs finds the keepalive anchors of the seeded
// run and counts its legs.
func TestRunsLists(t *testing.T) {
	r := seedRelease(t)
	code, stdout, stderr := runArgs(t, "runs", "--config", r.config)
	if code != exitOK {
		t.Fatalf("runs: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || strings.Fields(lines[1])[0] != "42" || strings.Fields(lines[1])[1] != "3" {
		t.Errorf("runs output:\n%s\nwant a header and run 42 with 3 anchors", stdout)
	}
}
