package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestInitReadsDockerRecipeWorkflow: init on a workflow written like
// docker's guide gives the contract's config, and says what it skipped.
func TestInitReadsDockerRecipeWorkflow(t *testing.T) {
	code, stdout, stderr := runArgs(t, "init", "--workflow", filepath.Join("testdata", "docker-multi-runner.yml"), "-o", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := release.ParseConfig("init", []byte(stdout))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if want := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}; !reflect.DeepEqual(cfg.Platforms, want) {
		t.Errorf("platforms %v, want %v", cfg.Platforms, want)
	}
	want := []release.Target{{Name: "ghcr", Repo: "ghcr.io/acme/app"}, {Name: "dockerhub", Repo: "docker.io/acme/app"}}
	if !reflect.DeepEqual(cfg.Targets, want) {
		t.Errorf("targets %v, want %v", cfg.Targets, want)
	}
	if cfg.Tags.Release != "{version}" || cfg.Tags.Latest != "latest" || !reflect.DeepEqual(cfg.Tags.Also, []string{"{major}.{minor}", "{major}"}) {
		t.Errorf("tags %+v", cfg.Tags)
	}

	// What it cannot read is said, and it never writes over a file.
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yml")
	body := strings.Replace(readFile(t, filepath.Join("testdata", "docker-multi-runner.yml")), "type=semver,pattern={{major}}\n", "type=semver,pattern={{major}},enable=${{ !startsWith(github.ref, 'refs/tags/v0.') }}\n", 1)
	if err := os.WriteFile(wf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "remerge.yaml")
	code, _, stderr = runArgs(t, "init", "--workflow", wf, "-o", out)
	if code != 0 || !strings.Contains(stderr, "enable") {
		t.Errorf("exit %d; stderr %q should say the enable rule was not read", code, stderr)
	}
	if code, _, _ = runArgs(t, "init", "--workflow", wf, "-o", out); code != exitUsage {
		t.Errorf("writing over %s: exit %d, want %d", out, code, exitUsage)
	}
}

// TestInitKeepsLatestOff: a workflow whose metadata-action says
// flavor latest=false pushes no latest tag, so the config init writes must
// keep latest off; read back, the release's tags hold no latest, and
// repair would write none.
func TestInitKeepsLatestOff(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yml")
	body := readFile(t, filepath.Join("testdata", "docker-multi-runner.yml"))
	if !strings.Contains(body, "          tags: |\n") {
		t.Fatal("the workflow fixture changed: no metadata-action tags input to add a flavor beside")
	}
	body = strings.Replace(body, "          tags: |\n", "          flavor: |\n            latest=false\n          tags: |\n", 1)
	if err := os.WriteFile(wf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs(t, "init", "--workflow", wf, "-o", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := release.ParseConfig("init", []byte(stdout))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if cfg.Tags.Latest != "" {
		t.Fatalf("latest %q, want none: the workflow writes no latest\n%s", cfg.Tags.Latest, stdout)
	}
	for _, tr := range cfg.ReleaseTags(release.Release{Ref: "v2.1.0"}, "") {
		if tr.Role == release.RoleLatest {
			t.Errorf("release tags %v hold a latest tag", cfg.ReleaseTags(release.Release{Ref: "v2.1.0"}, ""))
		}
	}
}
