package actiontest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/go-skynet/remerge/internal/cas"
)

// repoRoot is the module root, where action.yml lives.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// step is one step of a composite action or a workflow job.
type step struct {
	ID              string            `yaml:"id"`
	Name            string            `yaml:"name"`
	If              string            `yaml:"if"`
	Uses            string            `yaml:"uses"`
	Run             string            `yaml:"run"`
	Shell           string            `yaml:"shell"`
	Env             map[string]string `yaml:"env"`
	With            map[string]string `yaml:"with"`
	ContinueOnError bool              `yaml:"continue-on-error"`
}

// actionFile is the part of action.yml the harness reads.
type actionFile struct {
	Inputs map[string]struct {
		Default  string `yaml:"default"`
		Required bool   `yaml:"required"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

// workflowFile is the part of a workflow the harness reads.
type workflowFile struct {
	Jobs map[string]struct {
		Needs       []string          `yaml:"needs"`
		If          string            `yaml:"if"`
		Permissions map[string]string `yaml:"permissions"`
		Env         map[string]string `yaml:"env"`
		Steps       []step            `yaml:"steps"`
	} `yaml:"jobs"`
}

func readYAML(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// ctx is what ${{ }} expressions may name: inputs, github, and the steps
// run so far.
type ctx struct {
	inputs map[string]string
	github map[string]string
	steps  map[string]*stepResult
}

type stepResult struct {
	outputs map[string]string
	outcome string // success or failure
}

var exprPattern = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand fills in every ${{ }} of s. An expression the harness does not
// know fails the test rather than expanding to something made up.
func (c *ctx) expand(t testing.TB, s string) string {
	t.Helper()
	return exprPattern.ReplaceAllStringFunc(s, func(m string) string {
		e := exprPattern.FindStringSubmatch(m)[1]
		parts := strings.Split(e, ".")
		switch {
		case len(parts) == 2 && parts[0] == "inputs":
			if v, ok := c.inputs[parts[1]]; ok {
				return v
			}
		case len(parts) == 2 && parts[0] == "github":
			if v, ok := c.github[parts[1]]; ok {
				return v
			}
		case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
			if r := c.steps[parts[1]]; r != nil {
				return r.outputs[parts[3]]
			}
			return "" // a step that did not run has no outputs
		case len(parts) == 3 && parts[0] == "steps" && parts[2] == "outcome":
			if r := c.steps[parts[1]]; r != nil {
				return r.outcome
			}
			return ""
		case len(parts) == 2 && parts[0] == "secrets":
			return "" // never read by a run step the harness runs
		}
		t.Fatalf("expression %q: the harness does not know it", m)
		return ""
	})
}

// runner is one simulated job: a workspace (the working directory), the
// files GitHub hands each step, and PATH with the tree's remerge first.
type runner struct {
	t         testing.TB
	workspace string
	temp      string // RUNNER_TEMP
	summary   string // GITHUB_STEP_SUMMARY, shared by every step
	path      string
	stdout    strings.Builder // every step's stdout: annotations land here
	log       strings.Builder // every step's exit code, stdout and stderr
}

func newRunner(t testing.TB, bin string) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{t: t, workspace: filepath.Join(dir, "workspace"), temp: filepath.Join(dir, "runner-temp"), summary: filepath.Join(dir, "step-summary.md")}
	for _, d := range []string{r.workspace, r.temp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.path = filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	// Each step's output is shown only when the test fails: passing runs
	// stay quiet under `make test`.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("steps run:\n%s", r.log.String())
		}
	})
	return r
}

// runScript runs one `run:` step with its env and returns its exit code
// and the outputs it wrote to GITHUB_OUTPUT.
func (r *runner) runScript(s step, env map[string]string) (int, map[string]string) {
	t := r.t
	t.Helper()
	if s.Shell != "" && s.Shell != "bash" {
		t.Fatalf("step %q: shell %q; the harness runs bash only", s.Name, s.Shell)
	}
	dir := t.TempDir()
	script, output, ghPath := filepath.Join(dir, "step.sh"), filepath.Join(dir, "output"), filepath.Join(dir, "path")
	for p, body := range map[string]string{script: s.Run, output: "", ghPath: ""} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = r.workspace
	cmd.Env = []string{
		"PATH=" + r.path, "HOME=" + os.Getenv("HOME"), "DOCKER_CONFIG=" + os.Getenv("DOCKER_CONFIG"),
		"GITHUB_ACTIONS=true", "CI=true", "RUNNER_TEMP=" + r.temp,
		"GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + r.summary, "GITHUB_PATH=" + ghPath,
		"GITHUB_WORKSPACE=" + r.workspace, cas.DirEnv + "=" + filepath.Join(r.temp, "remerge-cache"),
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("step %q: %v", s.Name, err)
	}
	fmt.Fprintf(&r.log, "step %q exit %d\nstdout:\n%s\nstderr:\n%s\n", s.Name, code, out.String(), errOut.String())
	r.stdout.WriteString(out.String())
	return code, readOutputs(t, output)
}

// readOutputs reads name=value lines, as the runner does. (Multi-line
// name<<DELIM values are not used by remerge or the action.)
func readOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.Contains(k, "<<") {
			t.Fatalf("GITHUB_OUTPUT line %q is not name=value", sc.Text())
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// syncBuffer is a strings.Builder safe for the two copy goroutines of
// exec.Cmd.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
