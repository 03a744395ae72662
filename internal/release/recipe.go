package release

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/go-skynet/remerge/internal/manifest"
)

// This file describes a release built by docker's multi-runner recipe
// ("Distribute build across multiple runners"): one image, one build job
// per platform pushing by digest, one merge job writing the list under
// metadata-action's tags. The config's `platforms:` key selects it; the
// image is then one backend, named by its repo path, with one leg per platform,
// so every judge, plan and view of a LocalAI backend serves it unchanged.

// Recipe reports whether the config describes one image built by the
// multi-runner recipe (`platforms:`) rather than a LocalAI backend matrix.
func (c Config) Recipe() bool { return len(c.Platforms) > 0 }

// PlatformTag names a platform's leg the way the recipe's artifact does,
// without the linux/ every leg shares: linux/arm/v7 -> arm-v7,
// linux/amd64 -> amd64, windows/amd64 -> windows-amd64.
func PlatformTag(platform string) string {
	return strings.ReplaceAll(strings.TrimPrefix(platform, "linux/"), "/", "-")
}

// RecipeMatrix is the backend list of a recipe config: one image whose legs
// are the configured platforms, in config order. The image is keyed and
// shown by its path in the first target (acme/app); its tags carry no
// suffix (tagSuffix).
func (c Config) RecipeMatrix() *Matrix {
	b := BackendSpec{Suffix: c.RecipeImage(), Name: c.RecipeImage(), Kind: KindMultiarch}
	for _, p := range c.Platforms {
		b.Legs = append(b.Legs, LegSpec{PlatformTag: PlatformTag(p), Platform: p})
	}
	return &Matrix{Path: "platforms", Backends: []BackendSpec{b}, Entries: len(b.Legs)}
}

// LoadBackends returns the backends a release is made of: the recipe's one
// image when the config names platforms, else the LocalAI matrix file.
func LoadBackends(c Config) (*Matrix, error) {
	if c.Recipe() {
		return c.RecipeMatrix(), nil
	}
	return LoadMatrix(c.Matrix)
}

// LegOf returns the leg tag of the configured platform p names, or false
// when p is not one of the config's platforms.
func (c Config) LegOf(p string) (string, bool) {
	for _, want := range c.Platforms {
		if want == p {
			return PlatformTag(want), true
		}
	}
	return "", false
}

// validatePlatforms checks the platforms key: each parses, is written as
// buildx writes it (so that legs and list entries compare equal), and
// appears once.
func (c Config) validatePlatforms() error {
	seen := map[string]bool{}
	for i, p := range c.Platforms {
		n, err := manifest.NormalizePlatform(p)
		if err != nil {
			return fmt.Errorf("platforms[%d] %q: %v", i, p, err)
		}
		if n != p {
			return fmt.Errorf("platforms[%d] %q: write it as %s", i, p, n)
		}
		if seen[n] {
			return fmt.Errorf("platforms[%d] %q: given twice", i, p)
		}
		seen[n] = true
	}
	if c.Anchor != "" && c.Recipe() {
		return fmt.Errorf("anchor %q: the multi-runner recipe (platforms) has no anchor repo", c.Anchor)
	}
	return nil
}

// placeholder matches one {word} of a tag template.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// knownPlaceholders are the words a tag template may use.
var knownPlaceholders = map[string]bool{
	"{ref}": true, "{sha7}": true, "{suffix}": true,
	"{version}": true, "{major}": true, "{minor}": true, "{patch}": true,
}

// validateTemplate checks one tag template: only known placeholders, and
// {suffix} when a matrix gives several backends that would otherwise share
// the tag.
func (c Config) validateTemplate(key, tpl string) error {
	for _, ph := range placeholder.FindAllString(tpl, -1) {
		if !knownPlaceholders[ph] {
			return fmt.Errorf("%s %q: unknown placeholder %s (want {ref} {sha7} {suffix} {version} {major} {minor} {patch})", key, tpl, ph)
		}
	}
	if strings.ContainsAny(placeholder.ReplaceAllString(tpl, ""), "{}") {
		return fmt.Errorf("%s %q: unbalanced brace", key, tpl)
	}
	if !c.Recipe() && !strings.Contains(tpl, "{suffix}") {
		return fmt.Errorf("%s %q must contain {suffix}", key, tpl)
	}
	return nil
}

// recipeDefaults turns LocalAI's defaults into the recipe's: no matrix, no
// anchor repo, and metadata-action's usual tags (type=semver
// {{version}}, latest=auto); no sha tag and no signer identity unless the
// file sets them.
func recipeDefaults(c Config) Config {
	c.Matrix, c.Anchor = "", ""
	c.Tags = TagTemplates{Release: "{version}", Latest: "latest"}
	c.Signing.IdentityRegex = ""
	return c
}

// RecipeImage names the recipe's image where a LocalAI backend shows its
// suffix: the first target's repo path without the registry (acme/app).
func (c Config) RecipeImage() string {
	if len(c.Targets) == 0 {
		return "image"
	}
	repo := c.Targets[0].Repo
	if i := strings.Index(repo, "/"); i >= 0 && strings.ContainsAny(repo[:i], ".:") {
		repo = repo[i+1:]
	}
	return repo
}

// tagSuffix is the {suffix} of a backend's tags: the recipe's one image
// has none (its key is its name, which its tags do not carry).
func (c Config) tagSuffix(suffix string) string {
	if c.Recipe() {
		return ""
	}
	return suffix
}
