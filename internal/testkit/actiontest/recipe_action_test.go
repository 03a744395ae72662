package actiontest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestActionHealsRecipeRelease runs action.yml's steps, as the recipe's
// self-heal example calls them (config, release, a flat digests folder,
// repair), over a multi-runner release whose merge job failed in both
// registries: the action re-merges it, every tag of the release resolves
// in both, and the final inspection says ok.
func TestActionHealsRecipeRelease(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	ghcr, hub := testreg.Start(t), testreg.Start(t)
	digests := t.TempDir()
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}, {OS: "linux", Architecture: "arm", Variant: "v7"}} {
		img, err := testreg.NewImage(p, testreg.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var dgst string
		for _, reg := range []*testreg.Registry{ghcr, hub} {
			info, err := reg.PutImage(ctx, "acme/app", img)
			if err != nil {
				t.Fatal(err)
			}
			dgst = info.Digest
		}
		if err := os.WriteFile(filepath.Join(digests, strings.TrimPrefix(dgst, "sha256:")), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(t.TempDir(), "remerge.yaml")
	body := fmt.Sprintf("platforms: [linux/amd64, linux/arm64, linux/arm/v7]\ntargets:\n  - name: ghcr\n    repo: %s\n  - name: dockerhub\n    repo: %s\ntags:\n  release: \"{version}\"\n  latest: \"latest\"\n  also: [\"{major}.{minor}\", \"{major}\"]\n",
		ghcr.Repo("acme/app"), hub.Repo("acme/app"))
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, remergeBin)
	res := runAction(t, r, map[string]string{"config": config, "release": "v2.1.0", "digests": digests, "repair": "true", "install": "false"})
	if res.code != 0 {
		t.Fatalf("exit %d, want 0; stdout:\n%s", res.code, r.stdout.String())
	}
	wantOutputs(t, res.outputs, map[string]string{"ok": "1", "repairable": "0", "unrepairable": "0", "broken": "false"})
	for _, tag := range []string{"2.1.0", "2.1", "2", "latest"} {
		a, errA := ghcr.Resolve(ctx, "acme/app", tag)
		b, errB := hub.Resolve(ctx, "acme/app", tag)
		if errA != nil || errB != nil || a != b {
			t.Errorf("%s: ghcr %s (%v), dockerhub %s (%v): want one list in both", tag, a, errA, b, errB)
		}
	}
}
