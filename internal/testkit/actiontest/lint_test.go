package actiontest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// lintProject lays out a project actionlint can check: action.yml at the
// root; the example verbatim; the example with the remerge step pointed at
// this action (uses: ./), so its with: keys and the outputs it reads are
// checked against action.yml; and the action's composite steps as a
// workflow_call job with the action's inputs, so their expressions and
// scripts are checked as a workflow's are (actionlint reads an action's
// metadata but does not lint composite steps). edit, when set, changes the
// example before it is written.
func lintProject(t *testing.T, edit func(string) string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	// actionlint takes the directory holding .git as the project root, the
	// base of a local `uses: ./`.
	for _, d := range []string{wf, filepath.Join(dir, ".git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	action := fileText(t, filepath.Join(root, "action.yml"))
	example := fileText(t, filepath.Join(root, "examples", "localai-self-heal.yml"))
	local := strings.Replace(example, "uses: go-skynet/remerge@v1", "uses: ./", 1)
	if local == example {
		t.Fatal("the example does not use go-skynet/remerge@v1")
	}
	if edit != nil {
		local = edit(local)
	}
	files := map[string]string{
		filepath.Join(dir, "action.yml"):            action,
		filepath.Join(wf, "example.yml"):            example,
		filepath.Join(wf, "example-local.yml"):      local,
		filepath.Join(wf, "action-as-workflow.yml"): actionAsWorkflow(t, action),
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// actionAsWorkflow turns action.yml's composite steps into a workflow.
func actionAsWorkflow(t *testing.T, action string) string {
	t.Helper()
	var a struct {
		Inputs map[string]struct {
			Description string `yaml:"description"`
			Default     string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal([]byte(action), &a); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]any{}
	for name, in := range a.Inputs {
		inputs[name] = map[string]any{"type": "string", "required": false, "default": in.Default, "description": in.Description}
	}
	wf := map[string]any{
		"name": "action.yml composite steps",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{"runs-on": "ubuntu-latest", "steps": a.Runs.Steps}},
	}
	b, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runActionlint(t *testing.T, bin, dir string) (string, bool) {
	t.Helper()
	cmd := exec.Command(bin, "-oneline", "-no-color",
		".github/workflows/example.yml", ".github/workflows/example-local.yml", ".github/workflows/action-as-workflow.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("running actionlint: %v", err)
	}
	return string(out), err == nil
}

// TestActionlint lints the action and the example with actionlint, and
// proves the lint looks at them: an undeclared input in the example's with:
// and an unknown input in the action's steps are both reported.
func TestActionlint(t *testing.T) {
	bin := tools.Actionlint.Require(t)
	if out, ok := runActionlint(t, bin, lintProject(t, nil)); !ok {
		t.Errorf("actionlint:\n%s", out)
	}

	controls := []struct {
		name string
		edit func(string) string
		want string
	}{
		{"undeclared with: key", func(s string) string {
			return strings.Replace(s, "          sign: true\n", "          sign: true\n          fail_on: stale\n", 1)
		}, `input "fail_on" is not defined in action`},
		{"unknown output read", func(s string) string {
			return strings.Replace(s, "steps.remerge.outputs.unknown", "steps.remerge.outputs.unknwon", 1)
		}, `"unknwon"`},
	}
	for _, c := range controls {
		t.Run(c.name, func(t *testing.T) {
			dir := lintProject(t, c.edit)
			out, ok := runActionlint(t, bin, dir)
			if ok || !strings.Contains(out, c.want) {
				t.Errorf("actionlint did not report %q:\n%s", c.want, out)
			}
		})
	}
	t.Run("composite steps are linted", func(t *testing.T) {
		dir := lintProject(t, nil)
		p := filepath.Join(dir, ".github", "workflows", "action-as-workflow.yml")
		body := strings.Replace(fileText(t, p), "inputs.fail-on", "inputs.fail_on", 1)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, ok := runActionlint(t, bin, dir); ok || !strings.Contains(out, `"fail_on"`) {
			t.Errorf("actionlint did not report the unknown input:\n%s", out)
		}
	})
}
