package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/go-skynet/remerge/internal/manifest"
)

// Target is a repo where user-facing tags live.
type Target struct {
	Name string `yaml:"name" json:"name"`
	Repo string `yaml:"repo" json:"repo"`
}

// TagTemplates name the tags a merge writes. Placeholders: {ref}, {sha7},
// {suffix}, and metadata-action's semver parts {version}, {major},
// {minor}, {patch}. Defaults are LocalAI's (the recipe's with platforms).
type TagTemplates struct {
	Release string `yaml:"release"`
	SHA     string `yaml:"sha"`
	Latest  string `yaml:"latest"`
	// Also are series tags ("{major}.{minor}", "{major}") of a semver
	// release: they move forward only, as latest does.
	Also []string `yaml:"also"`
}

// MergeConfig says how the pipeline's merge writes a list, so that a
// re-merge writes the same bytes: `merge: {prefer_index: true, order:
// digest}` is what LocalAI's merge does with current buildx.
type MergeConfig struct {
	// PreferIndex is buildx's --prefer-index: a single source becomes a
	// one-entry list (true, the default since buildx v0.15) or is
	// published as itself (false).
	PreferIndex *bool `yaml:"prefer_index"`
	// Order of the children: "digest" (ascending hex, the merge step's
	// shell glob over the digests folder) or "matrix" (amd64, then arm64).
	Order string `yaml:"order"`
}

// Options returns the writer's options; unset keys take LocalAI's values.
func (m MergeConfig) Options() manifest.MergeOptions {
	o := manifest.DefaultMergeOptions()
	if m.PreferIndex != nil {
		o.PreferIndex = *m.PreferIndex
	}
	if m.Order != "" {
		o.Order = manifest.Order(m.Order)
	}
	return o
}

// DefaultIdentityRegex is the certificate identity LocalAI's docs tell
// users to verify: the merge workflow, run for a release tag.
const DefaultIdentityRegex = `^https://github\.com/mudler/LocalAI/\.github/workflows/backend_merge\.yml@refs/tags/.*$`

// SigningConfig says whose signature a user is told to expect. A keyless
// (Fulcio) signature carries a certificate whose SAN (a workflow URI or an
// email) must match IdentityRegex; a key-pair signature has no identity.
type SigningConfig struct {
	IdentityRegex string `yaml:"identity_regex"`
}

// Identity compiles IdentityRegex (Validate has checked it).
func (s SigningConfig) Identity() *regexp.Regexp {
	re, err := regexp.Compile(s.IdentityRegex)
	if err != nil {
		return nil
	}
	return re
}

// Config is the YAML configuration file of DESIGN.md section 9. Every key is
// optional; the defaults are LocalAI's.
type Config struct {
	Matrix   string       `yaml:"matrix"`
	Anchor   string       `yaml:"anchor"`
	Targets  []Target     `yaml:"targets"`
	Sources  []string     `yaml:"sources"`
	Insecure []string     `yaml:"insecure"`
	Tags     TagTemplates `yaml:"tags"`
	Merge    MergeConfig  `yaml:"merge"`
	// Signing is the expected signer of published lists.
	Signing SigningConfig `yaml:"signing"`
	// Platforms, when set, describe one image built by docker's
	// multi-runner recipe (recipe.go) instead of a backend matrix.
	Platforms []string `yaml:"platforms"`
}

// DefaultConfig returns LocalAI's pipeline.
func DefaultConfig() Config {
	return Config{
		Matrix: ".github/backend-matrix.yml",
		Anchor: "quay.io/go-skynet/ci-cache",
		Targets: []Target{
			{Name: "quay", Repo: "quay.io/go-skynet/local-ai-backends"},
			{Name: "dockerhub", Repo: "docker.io/localai/localai-backends"},
		},
		Tags: TagTemplates{
			Release: "{ref}{suffix}",
			SHA:     "sha-{sha7}{suffix}",
			Latest:  "latest{suffix}",
		},
		Signing: SigningConfig{IdentityRegex: DefaultIdentityRegex},
	}
}

// LoadConfig reads a config file over the defaults. Unknown keys are an
// error naming the file and line, so a typo never silently falls back to
// LocalAI's repos.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return ParseConfig(path, b)
}

// ParseConfig parses config bytes over the defaults; name is used in errors.
func ParseConfig(name string, b []byte) (Config, error) {
	cfg := DefaultConfig()
	var file Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var top yaml.Node
	if err := yaml.Unmarshal(b, &top); err == nil && len(top.Content) == 1 && top.Content[0].Kind != yaml.MappingNode && top.Content[0].Tag != "!!null" {
		return Config{}, fmt.Errorf("config %s:%d: want a mapping of keys (matrix, anchor, targets, sources, insecure, tags, merge, signing)", name, top.Content[0].Line)
	}
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamlPositionedError("config", name, err)
	}
	if len(file.Platforms) > 0 {
		if file.Matrix != "" {
			return Config{}, fmt.Errorf("config %s: matrix and platforms: give a backend matrix or the recipe's platforms, not both", name)
		}
		if file.Targets == nil {
			return Config{}, fmt.Errorf("config %s: platforms: name the image's repos under targets", name)
		}
		cfg = recipeDefaults(cfg)
		cfg.Platforms = file.Platforms
	}
	if file.Matrix != "" {
		cfg.Matrix = file.Matrix
	}
	if file.Anchor != "" {
		cfg.Anchor = file.Anchor
	}
	if file.Targets != nil {
		cfg.Targets = file.Targets
	}
	cfg.Sources = file.Sources
	cfg.Insecure = file.Insecure
	if file.Tags.Release != "" {
		cfg.Tags.Release = file.Tags.Release
	}
	// An empty sha or latest given on purpose turns that tag off (a
	// pipeline with metadata-action's flavor latest=false writes none);
	// left out, the default stands.
	if file.Tags.SHA != "" || givenEmpty(&top, "tags", "sha") {
		cfg.Tags.SHA = file.Tags.SHA
	}
	if file.Tags.Latest != "" || givenEmpty(&top, "tags", "latest") {
		cfg.Tags.Latest = file.Tags.Latest
	}
	cfg.Tags.Also = file.Tags.Also
	cfg.Merge = file.Merge
	if file.Signing.IdentityRegex != "" {
		cfg.Signing.IdentityRegex = file.Signing.IdentityRegex
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	return cfg, nil
}

// Validate checks the config is usable: every repo parses, target names are
// unique and non-empty, and the tag templates name the suffix.
func (c Config) Validate() error {
	if len(c.Targets) == 0 {
		return errors.New("no targets")
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if t.Name == "" {
			return fmt.Errorf("targets[%d]: name is empty", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("targets[%d]: duplicate name %q", i, t.Name)
		}
		seen[t.Name] = true
		if err := validRepo(t.Repo); err != nil {
			return fmt.Errorf("targets[%d] (%s): %w", i, t.Name, err)
		}
	}
	if c.Anchor != "" {
		if err := validRepo(c.Anchor); err != nil {
			return fmt.Errorf("anchor: %w", err)
		}
	}
	for i, s := range c.Sources {
		if err := validRepo(s); err != nil {
			return fmt.Errorf("sources[%d]: %w", i, err)
		}
	}
	switch manifest.Order(c.Merge.Order) {
	case "", manifest.OrderDigest, manifest.OrderMatrix:
	default:
		return fmt.Errorf("merge.order %q: want digest or matrix", c.Merge.Order)
	}
	if _, err := regexp.Compile(c.Signing.IdentityRegex); err != nil {
		return fmt.Errorf("signing.identity_regex %q: %v", c.Signing.IdentityRegex, err)
	}
	if err := c.validatePlatforms(); err != nil {
		return err
	}
	keys := []string{"tags.release", "tags.sha", "tags.latest"}
	tpls := []string{c.Tags.Release, c.Tags.SHA, c.Tags.Latest}
	for i, tpl := range c.Tags.Also {
		keys, tpls = append(keys, fmt.Sprintf("tags.also[%d]", i)), append(tpls, tpl)
	}
	for i, tpl := range tpls {
		if tpl == "" && (keys[i] == "tags.sha" || keys[i] == "tags.latest") {
			continue // off: the pipeline writes no such tag
		}
		if err := c.validateTemplate(keys[i], tpl); err != nil {
			return err
		}
	}
	return nil
}

// Repos returns every probed repo in column order: anchor, targets, extra
// sources, without duplicates.
func (c Config) Repos() []Repo {
	var out []Repo
	seen := map[string]bool{}
	add := func(r Repo) {
		if r.Repo == "" || seen[r.Repo] {
			return
		}
		seen[r.Repo] = true
		out = append(out, r)
	}
	add(Repo{Repo: c.Anchor, Role: RoleAnchor, Key: "anchor"})
	for i, t := range c.Targets {
		add(Repo{Repo: t.Repo, Role: RoleTarget, Name: t.Name, Key: fmt.Sprintf("targets[%d].repo", i)})
	}
	for i, s := range c.Sources {
		add(Repo{Repo: s, Role: RoleSource, Key: fmt.Sprintf("sources[%d]", i)})
	}
	return out
}

// Target returns the target with the given name.
func (c Config) Target(name string) (Target, bool) {
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// givenEmpty reports whether the YAML document doc sets the key path to an
// empty value ("" or null), as opposed to leaving it out.
func givenEmpty(doc *yaml.Node, path ...string) bool {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, key := range path {
		next, ok := matrixLookup(n, key)
		if !ok {
			return false
		}
		n = matrixDeref(next)
	}
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || (n.Tag == "!!str" && n.Value == ""))
}
