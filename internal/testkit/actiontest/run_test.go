package actiontest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// remergeBin is the remerge binary built from this tree by TestMain.
var remergeBin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "remerge-actiontest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		remergeBin = filepath.Join(dir, "remerge")
		build := exec.Command("go", "build", "-o", remergeBin, "./cmd/remerge")
		build.Dir = filepath.Join("..", "..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building remerge: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// actionResult is how a run of the composite action ended.
type actionResult struct {
	code    int // exit code of the step that ended it (0 when all passed)
	outputs map[string]string
}

// runAction runs action.yml's steps with inputs (over the declared
// defaults), the way the runner does for a composite action: steps in
// order, the first failing step ends the action, outputs read from the
// steps' outputs.
func runAction(t testing.TB, r *runner, given map[string]string) actionResult {
	t.Helper()
	var a actionFile
	readYAML(t, filepath.Join(repoRoot(t), "action.yml"), &a)
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml runs.using %q, want composite", a.Runs.Using)
	}
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		inputs[name] = in.Default
	}
	for name, v := range given {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("input %q is not declared in action.yml", name)
		}
		inputs[name] = v
	}
	for name, in := range a.Inputs {
		if in.Required && given[name] == "" {
			t.Fatalf("required input %q not given", name)
		}
	}
	if inputs["install"] != "false" {
		t.Fatal("the harness runs the action with install: false and the tree's remerge on PATH")
	}
	c := &ctx{inputs: inputs, github: map[string]string{"action_ref": "", "action_path": repoRoot(t)}, steps: map[string]*stepResult{}}
	res := actionResult{}
	for _, s := range a.Runs.Steps {
		if s.If != "" {
			// Only the install steps are conditional, and only on
			// install: true; with install: false GitHub skips them.
			if !strings.Contains(s.If, "inputs.install == 'true'") {
				t.Fatalf("step %q: if %q; the harness only knows the install condition", s.Name, s.If)
			}
			continue
		}
		if s.Uses != "" {
			t.Fatalf("step %q uses %s unconditionally; the harness cannot run it", s.Name, s.Uses)
		}
		env := map[string]string{}
		for k, v := range s.Env {
			env[k] = c.expand(t, v)
		}
		code, outputs := r.runScript(s, env)
		if s.ID != "" {
			c.steps[s.ID] = &stepResult{outputs: outputs, outcome: outcome(code)}
		}
		if code != 0 {
			res.code = code
			break
		}
	}
	res.outputs = map[string]string{}
	for name, o := range a.Outputs {
		res.outputs[name] = c.expand(t, o.Value)
	}
	return res
}

func outcome(code int) string {
	if code == 0 {
		return "success"
	}
	return "failure"
}

// jobResult is how the example's job ended.
type jobResult struct {
	failed bool
	steps  map[string]*stepResult
}

// runExampleJob runs the self-heal job of the example: its run steps, and
// its remerge step through runAction with the step's own `with:`, except
// overrides (sign: keyless signing needs a Fulcio and an OIDC token no
// loopback test has). Other uses: steps are not run (see the package doc).
func runExampleJob(t testing.TB, r *runner, github map[string]string, overrides map[string]string) jobResult {
	t.Helper()
	var w workflowFile
	readYAML(t, filepath.Join(repoRoot(t), "examples", "localai-self-heal.yml"), &w)
	job, ok := w.Jobs["self-heal"]
	if !ok {
		t.Fatal("the example has no self-heal job")
	}
	c := &ctx{github: github, steps: map[string]*stepResult{}}
	res := jobResult{steps: c.steps}
	ranAction := false
	for _, s := range job.Steps {
		switch {
		case s.If != "" && s.If != "always()" && s.Uses == "":
			t.Fatalf("step %q: if %q; the harness only knows always()", s.Name, s.If)
		case s.If == "" && res.failed:
			continue // a failed job skips steps without always()
		case strings.HasPrefix(s.Uses, "go-skynet/remerge@"):
			inputs := map[string]string{"install": "false"}
			for k, v := range s.With {
				inputs[k] = c.expand(t, v)
			}
			for k, v := range overrides {
				inputs[k] = v
			}
			a := runAction(t, r, inputs)
			c.steps[s.ID] = &stepResult{outputs: a.outputs, outcome: outcome(a.code)}
			if a.code != 0 && !s.ContinueOnError {
				res.failed = true
			}
			ranAction = true
		case s.Uses != "":
			continue
		default:
			env := map[string]string{}
			for k, v := range job.Env {
				env[k] = c.expand(t, v)
			}
			for k, v := range s.Env {
				env[k] = c.expand(t, v)
			}
			code, outputs := r.runScript(s, env)
			if s.ID != "" {
				c.steps[s.ID] = &stepResult{outputs: outputs, outcome: outcome(code)}
			}
			if code != 0 && !s.ContinueOnError {
				res.failed = true
			}
		}
	}
	if !ranAction {
		t.Fatal("the self-heal job never ran the remerge action")
	}
	return res
}
