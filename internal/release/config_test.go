package release

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "# only a comment\n", "---\n"} {
		t.Run(in, func(t *testing.T) {
			cfg, err := ParseConfig("c.yml", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg, DefaultConfig()) {
				t.Errorf("got %+v, want the defaults", cfg)
			}
		})
	}
}

func TestParseConfigOverride(t *testing.T) {
	t.Parallel()
	in := `matrix: m.yml
anchor: 127.0.0.1:5000/ci-cache
targets:
  - name: one
    repo: 127.0.0.1:5000/backends
sources: [127.0.0.1:5001/mirror]
insecure: [127.0.0.1:5000]
tags:
  latest: stable{suffix}
`
	cfg, err := ParseConfig("c.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Matrix = "m.yml"
	want.Anchor = "127.0.0.1:5000/ci-cache"
	want.Targets = []Target{{Name: "one", Repo: "127.0.0.1:5000/backends"}}
	want.Sources = []string{"127.0.0.1:5001/mirror"}
	want.Insecure = []string{"127.0.0.1:5000"}
	want.Tags.Latest = "stable{suffix}" // the other templates keep their defaults
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	wantRepos := []Repo{
		{Repo: "127.0.0.1:5000/ci-cache", Role: RoleAnchor, Key: "anchor"},
		{Repo: "127.0.0.1:5000/backends", Role: RoleTarget, Name: "one", Key: "targets[0].repo"},
		{Repo: "127.0.0.1:5001/mirror", Role: RoleSource, Key: "sources[0]"},
	}
	if got := cfg.Repos(); !reflect.DeepEqual(got, wantRepos) {
		t.Errorf("Repos = %+v", got)
	}
	if tg, ok := cfg.Target("one"); !ok || tg.Repo != "127.0.0.1:5000/backends" {
		t.Errorf("Target(one) = %+v, %v", tg, ok)
	}
	if _, ok := cfg.Target("quay"); ok {
		t.Error("default target survived an override of targets")
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // the whole message: one line, file:line first
	}{
		{"unknown key", "matrix: m.yml\nmatirx: n.yml\n", "config c.yml:2: unknown key matirx"},
		{"unknown nested key", "targets:\n  - name: q\n    repo: quay.io/a/b\n    rpeo: x\n", "config c.yml:4: unknown key rpeo"},
		{"two unknown keys", "a: 1\nb: 2\n", "config c.yml:1: unknown key a; line 2: unknown key b"},
		{"malformed yaml", "matrix: a\n\tanchor: b\n", "config c.yml:2: found a tab character that violates indentation"},
		{"wrong type", "targets: 3\n", "config c.yml:1: cannot unmarshal !!int `3` into []release.Target"},
		{"repo with tag", "anchor: quay.io/a/b:tag\n", `config c.yml: anchor: repo "quay.io/a/b:tag" must not name a tag or digest`},
		{"repo with digest", "targets:\n - name: a\n   repo: quay.io/a/b@sha256:aa\n", `config c.yml: targets[0] (a): repo "quay.io/a/b@sha256:aa" must not name a tag or digest`},
		{"bad repo", "sources: ['Quay.io/UPPER/Case']\n", `config c.yml: sources[0]: repo "Quay.io/UPPER/Case"`},
		{"empty repo", "targets:\n - name: a\n", `config c.yml: targets[0] (a): repo is empty`},
		{"duplicate target name", "targets:\n - {name: q, repo: quay.io/a/b}\n - {name: q, repo: quay.io/a/c}\n", `config c.yml: targets[1]: duplicate name "q"`},
		{"empty target name", "targets:\n - {repo: quay.io/a/b}\n", "config c.yml: targets[0]: name is empty"},
		{"no targets", "targets: []\n", "config c.yml: no targets"},
		{"not a mapping", "vm\n", "config c.yml:1: want a mapping of keys (matrix, anchor, targets, sources, insecure, tags, merge, signing)"},
		{"a list", "- a\n- b\n", "config c.yml:1: want a mapping of keys"},
		{"bad identity regex", "signing: {identity_regex: '^https://(github'}\n", `config c.yml: signing.identity_regex "^https://(github": error parsing regexp: missing closing ): `},
		{"unknown signing key", "signing: {identity: x}\n", "config c.yml:1: unknown key identity"},
		{"template without suffix", "tags: {sha: 'sha-{sha7}'}\n", `config c.yml: tags.sha "sha-{sha7}" must contain {suffix}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yml", []byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\n want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

// signing.identity_regex defaults to LocalAI's merge workflow on a release
// tag, the identity its docs tell users to verify, and can be replaced.
func TestSigningIdentity(t *testing.T) {
	t.Parallel()
	re := DefaultConfig().Signing.Identity()
	for id, want := range map[string]bool{
		"https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/tags/v4.2.2":  true,
		"https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master": false,
		"https://github.com/someone/LocalAI/.github/workflows/backend_merge.yml@refs/tags/v4.2.2": false,
		"maintainer@example.com": false,
	} {
		if got := re.MatchString(id); got != want {
			t.Errorf("default identity_regex on %s = %v, want %v", id, got, want)
		}
	}
	cfg, err := ParseConfig("c.yml", []byte("signing: {identity_regex: '^me@example\\.com$'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Signing.Identity().MatchString("me@example.com") || cfg.Signing.Identity().MatchString(DefaultIdentityRegex) {
		t.Errorf("identity_regex %q not taken from the file", cfg.Signing.IdentityRegex)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "remerge.yml")
	if err := os.WriteFile(path, []byte("matrix: x.yml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil || cfg.Matrix != "x.yml" {
		t.Fatalf("LoadConfig = %+v, %v", cfg, err)
	}
	_, err = LoadConfig(filepath.Join(t.TempDir(), "absent.yml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "absent.yml") {
		t.Errorf("missing file error = %v", err)
	}
}

// TestParseConfigTagOff: sha or latest given empty turns that tag off;
// left out, the default stands.
func TestParseConfigTagOff(t *testing.T) {
	for _, tt := range []struct {
		name, yaml  string
		sha, latest string
	}{
		{"left out", "tags: {release: \"{ref}{suffix}\"}\n", "sha-{sha7}{suffix}", "latest{suffix}"},
		{"latest empty", "tags:\n  latest: \"\"\n", "sha-{sha7}{suffix}", ""},
		{"latest null", "tags:\n  latest:\n", "sha-{sha7}{suffix}", ""},
		{"sha empty", "tags:\n  sha: ''\n", "", "latest{suffix}"},
		{"recipe latest off", "platforms: [linux/amd64]\ntargets: [{name: a, repo: ghcr.io/acme/app}]\ntags:\n  latest: \"\"\n", "", ""},
		{"recipe default", "platforms: [linux/amd64]\ntargets: [{name: a, repo: ghcr.io/acme/app}]\n", "", "latest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig("c.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Tags.SHA != tt.sha || cfg.Tags.Latest != tt.latest {
				t.Errorf("sha %q latest %q, want %q %q", cfg.Tags.SHA, cfg.Tags.Latest, tt.sha, tt.latest)
			}
		})
	}
}
