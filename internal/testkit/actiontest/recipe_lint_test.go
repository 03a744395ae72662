package actiontest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// TestActionlintRecipe lints the multi-runner recipe's self-heal example,
// verbatim and with its remerge step pointed at this action (so its with:
// keys are checked against action.yml), and the docker-documented recipe
// workflow `remerge init --workflow` is tested on; an undeclared input
// proves the lint looks.
func TestActionlintRecipe(t *testing.T) {
	bin := tools.Actionlint.Require(t)
	root := repoRoot(t)
	lint := func(t *testing.T, edit, editDocker func(string) string) (string, bool) {
		t.Helper()
		dir := t.TempDir()
		wf := filepath.Join(dir, ".github", "workflows")
		for _, d := range []string{wf, filepath.Join(dir, ".git")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		example := fileText(t, filepath.Join(root, "examples", "recipe-self-heal.yml"))
		local := strings.Replace(example, "uses: go-skynet/remerge@v1", "uses: ./", 1)
		if local == example {
			t.Fatal("the example does not use go-skynet/remerge@v1")
		}
		if edit != nil {
			local = edit(local)
		}
		files := map[string]string{
			filepath.Join(dir, "action.yml"):          fileText(t, filepath.Join(root, "action.yml")),
			filepath.Join(wf, "recipe.yml"):           example,
			filepath.Join(wf, "recipe-local.yml"):     local,
			filepath.Join(wf, "docker-multi-run.yml"): fileText(t, filepath.Join(root, "cmd", "remerge", "testdata", "docker-multi-runner.yml")),
		}
		if editDocker != nil {
			p := filepath.Join(wf, "docker-multi-run.yml")
			files[p] = editDocker(files[p])
		}
		for p, body := range files {
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(bin, "-oneline", "-no-color", ".github/workflows/recipe.yml", ".github/workflows/recipe-local.yml", ".github/workflows/docker-multi-run.yml")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("running actionlint: %v", err)
		}
		return string(out), err == nil
	}
	if out, ok := lint(t, nil, nil); !ok {
		t.Errorf("actionlint:\n%s", out)
	}
	out, ok := lint(t, func(s string) string {
		return strings.Replace(s, "          repair: true\n", "          repair: true\n          platforms: linux/amd64\n", 1)
	}, nil)
	if ok || !strings.Contains(out, `input "platforms" is not defined in action`) {
		t.Errorf("actionlint did not report the undeclared input:\n%s", out)
	}
	// The recipe workflow is checked too: a misspelt matrix key is caught.
	out, ok = lint(t, nil, func(s string) string {
		return strings.Replace(s, "platforms: ${{ matrix.platform }}", "platforms: ${{ matrix.platfrom }}", 1)
	})
	if ok || !strings.Contains(out, "platfrom") {
		t.Errorf("actionlint did not report the misspelt matrix key:\n%s", out)
	}
}
