// Package recipeinit reads a GitHub workflow written by docker's
// multi-runner recipe and drafts the remerge config that describes its
// releases: the build matrix's platforms, the image names of
// docker/metadata-action's images input, and its tags rules. What it cannot
// read is said, never guessed.
package recipeinit

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
)

// Draft is the config read from a workflow, and what could not be read.
type Draft struct {
	Platforms []string
	Targets   []release.Target
	Release   string
	Latest    string
	SHA       string
	Also      []string
	// Notes say what was not understood, one line each.
	Notes []string
}

type step struct {
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
}

type job struct {
	Env      map[string]string `yaml:"env"`
	Strategy struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []step `yaml:"steps"`
}

type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]job    `yaml:"jobs"`
}

// Read drafts a config from a workflow's bytes; name is used in errors.
func Read(name string, b []byte) (*Draft, error) {
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("workflow %s: %w", name, err)
	}
	d := &Draft{}
	jobs := make([]string, 0, len(w.Jobs))
	for n := range w.Jobs {
		jobs = append(jobs, n)
	}
	sort.Strings(jobs)
	for _, n := range jobs {
		d.platforms(n, w.Jobs[n])
	}
	meta, metaJob := metadataStep(w, jobs)
	if meta == nil {
		d.note("no docker/metadata-action step: targets and tags not read")
	} else {
		env := mergeEnv(w.Env, w.Jobs[metaJob].Env)
		d.images(meta.With["images"], env)
		d.tags(meta.With["tags"], meta.With["flavor"])
	}
	if len(d.Platforms) == 0 {
		d.note("no build matrix with a platform list (strategy.matrix.platform): write platforms by hand")
	}
	if len(d.Targets) == 0 {
		return d, fmt.Errorf("workflow %s: no image name could be read from docker/metadata-action's images", name)
	}
	return d, nil
}

func (d *Draft) note(format string, args ...any) {
	d.Notes = append(d.Notes, fmt.Sprintf(format, args...))
}

// platforms reads a job's strategy.matrix.platform list.
func (d *Draft) platforms(name string, j job) {
	raw, ok := j.Strategy.Matrix["platform"]
	if !ok {
		return
	}
	list, ok := raw.([]any)
	if !ok {
		d.note("job %s: matrix.platform is not a list (%v): not read", name, raw)
		return
	}
	for _, p := range list {
		s, _ := p.(string)
		n, err := manifest.NormalizePlatform(s)
		if err != nil {
			d.note("job %s: platform %v: %v: not read", name, p, err)
			continue
		}
		d.Platforms = append(d.Platforms, n)
	}
}

// metadataStep is the metadata-action step of the merge job (the job whose
// step has tags), else the first one found.
func metadataStep(w workflow, jobs []string) (*step, string) {
	var first *step
	firstJob := ""
	for _, n := range jobs {
		for i, s := range w.Jobs[n].Steps {
			if !strings.HasPrefix(s.Uses, "docker/metadata-action@") {
				continue
			}
			st := &w.Jobs[n].Steps[i]
			if s.With["tags"] != "" {
				return st, n
			}
			if first == nil {
				first, firstJob = st, n
			}
		}
	}
	return first, firstJob
}

func mergeEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var envExpr = regexp.MustCompile(`\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// images reads metadata-action's images input: one image per line or comma,
// ${{ env.X }} resolved from the workflow's env.
func (d *Draft) images(in string, env map[string]string) {
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(in, func(r rune) bool { return r == '\n' || r == ',' }) {
		img := strings.TrimSpace(envExpr.ReplaceAllStringFunc(strings.TrimSpace(f), func(m string) string {
			if v, ok := env[envExpr.FindStringSubmatch(m)[1]]; ok {
				return v
			}
			return m
		}))
		if img == "" {
			continue
		}
		if strings.Contains(img, "${{") || strings.Contains(img, "=") {
			d.note("image %q: not a plain name (an expression or an attribute): not read", img)
			continue
		}
		repo, target := repoOf(img)
		if seen[target] {
			target += fmt.Sprint(len(d.Targets) + 1)
		}
		seen[target] = true
		d.Targets = append(d.Targets, release.Target{Name: target, Repo: repo})
	}
}

// repoOf names an image's repo in full and its target after its registry.
func repoOf(img string) (repo, name string) {
	host, rest, ok := strings.Cut(img, "/")
	if !ok || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "docker.io/" + img, "dockerhub"
	}
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "docker.io/" + rest, "dockerhub"
	case "ghcr.io":
		return img, "ghcr"
	case "quay.io":
		return img, "quay"
	}
	return img, strings.NewReplacer(".", "-", ":", "-").Replace(host)
}
