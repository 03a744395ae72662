package inspect_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

const recipeYAML = `platforms: [linux/amd64, linux/arm64, linux/arm/v7]
targets:
  - name: ghcr
    repo: ghcr.io/acme/app
  - name: dockerhub
    repo: docker.io/acme/app
tags:
  release: "{version}"
  latest: "latest"
  also: ["{major}.{minor}", "{major}"]
`

func TestRecipeConfig(t *testing.T) {
	t.Parallel()
	cfg, err := release.ParseConfig("r.yml", []byte(recipeYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Recipe() || cfg.Anchor != "" || cfg.Matrix != "" {
		t.Fatalf("recipe config: anchor %q matrix %q", cfg.Anchor, cfg.Matrix)
	}
	m := cfg.RecipeMatrix()
	if len(m.Backends) != 1 || m.Backends[0].Suffix != "acme/app" {
		t.Fatalf("backends %+v, want the one image acme/app", m.Backends)
	}
	var legs []string
	for _, l := range m.Backends[0].Legs {
		legs = append(legs, l.PlatformTag+"="+l.Platform)
	}
	if want := []string{"amd64=linux/amd64", "arm64=linux/arm64", "arm-v7=linux/arm/v7"}; !reflect.DeepEqual(legs, want) {
		t.Errorf("legs %v, want %v", legs, want)
	}
	tags := func(ref string) []string {
		var out []string
		for _, tr := range cfg.ReleaseTags(release.Release{Ref: ref, SHA: "0123456789abcdef"}, "acme/app") {
			out = append(out, tr.Tag+":"+tr.Role)
		}
		return out
	}
	cases := map[string][]string{
		// metadata-action: {{version}}, {{major}}.{{minor}}, {{major}}, latest=auto.
		"v2.1.0": {"2.1.0:release", "latest:latest", "2.1:series", "2:series"},
		// A prerelease only extends {{version}}, and never latest.
		"v2.1.0-rc.1": {"2.1.0-rc.1:release"},
		// Build metadata is not part of {{version}}.
		"v2.1.0+build.5": {"2.1.0:release", "latest:latest", "2.1:series", "2:series"},
		// A branch: its name, no series.
		"main": {"main:branch"},
	}
	for ref, want := range cases {
		if got := tags(ref); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: tags %v, want %v", ref, got, want)
		}
	}
	if !release.ForwardOnly(release.RoleSeries) || !release.ForwardOnly(release.RoleLatest) || release.ForwardOnly(release.RoleRelease) {
		t.Error("latest and series tags move forward only; the release tag does not")
	}
}

func TestRecipeConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"platforms: [linux/amd64]\ntargets: [{name: a, repo: x.io/a/b}]\ntags: {also: [\"{mayor}\"]}\n":    "tags.also[0]",
		"platforms: [linux/amd64]\ntargets: [{name: a, repo: x.io/a/b}]\ntags: {release: \"{verison}\"}\n": "tags.release",
		"platforms: [linux/amd64, linux/amd64]\ntargets: [{name: a, repo: x.io/a/b}]\n":                    "platforms[1]",
		"platforms: [linux]\ntargets: [{name: a, repo: x.io/a/b}]\n":                                       "platforms[0]",
		"platforms: [linux/aarch64]\ntargets: [{name: a, repo: x.io/a/b}]\n":                               "linux/arm64",
		"platforms: [linux/amd64]\n": "targets",
		"platforms: [linux/amd64]\nmatrix: m.yml\ntargets: [{name: a, repo: x.io/a/b}]\n":    "matrix and platforms",
		"platforms: [linux/amd64]\nanchor: x.io/a/c\ntargets: [{name: a, repo: x.io/a/b}]\n": "anchor",
		"platform: [linux/amd64]\n":     "unknown key platform",
		"tags: {also: [\"{major}\"]}\n": "must contain {suffix}",
	}
	for yml, want := range cases {
		_, err := release.ParseConfig("c.yml", []byte(yml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %q", yml, err, want)
		}
	}
}

// TestResolveFlatDigests reads each flat digest's platform from its image
// in a real registry; a platform not configured, or two digests for one,
// is an input error naming the files.
func TestResolveFlatDigests(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t)
	ctx := context.Background()
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64, linux/arm/v7]\ntargets: [{name: a, repo: "+reg.Repo("acme/app")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	push := func(p v1.Platform) string {
		img, err := testreg.NewImage(p, testreg.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		info, err := reg.PutImage(ctx, "acme/app", img)
		if err != nil {
			t.Fatal(err)
		}
		return info.Digest
	}
	folder := func(digests ...string) *inspect.DigestsDir {
		dir := t.TempDir()
		for _, d := range digests {
			if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(d, "sha256:")), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := inspect.ReadRecipeDigestsDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	c := registry.New(registry.Options{})
	defer c.Close()
	amd, arm, arm2, s390 := push(v1.Platform{OS: "linux", Architecture: "amd64"}), push(v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}),
		push(v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}), push(v1.Platform{OS: "linux", Architecture: "s390x"})

	d, err := inspect.ResolveFlatDigests(ctx, c, cfg, folder(amd, arm))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"amd64": amd, "arm-v7": arm}; !reflect.DeepEqual(d.Digests["acme/app"], want) {
		t.Errorf("digests %v, want %v", d.Digests, want)
	}
	_, err = inspect.ResolveFlatDigests(ctx, c, cfg, folder(amd, s390))
	if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(s390, "sha256:")) || !strings.Contains(err.Error(), "linux/s390x") {
		t.Errorf("a platform not configured: %v", err)
	}
	_, err = inspect.ResolveFlatDigests(ctx, c, cfg, folder(arm, arm2))
	if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(arm, "sha256:")) || !strings.Contains(err.Error(), strings.TrimPrefix(arm2, "sha256:")) {
		t.Errorf("two digests for linux/arm/v7: %v", err)
	}
	// A digest in no repo is a problem, never a guess at its platform.
	gone := "sha256:" + strings.Repeat("e", 64)
	d, err = inspect.ResolveFlatDigests(ctx, c, cfg, folder(amd, gone))
	if err != nil || len(d.Digests["acme/app"]) != 1 || !strings.Contains(strings.Join(d.Problems, "\n"), "in no repo") {
		t.Errorf("a digest in no repo: %v %v %q", err, d.Digests, d.Problems)
	}
	// Through Run, the input error is ErrInput (exit 2).
	_, err = inspect.Run(ctx, release.Release{Ref: "v1.0.0"}, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(folder(amd, s390)))
	if !errors.Is(err, inspect.ErrInput) {
		t.Errorf("Run over a foreign platform: %v, want ErrInput", err)
	}
}

// TestResolveFlatDigestsUnanswered: a registry that answers the tags but
// fails the read of a flat digest leaves its platform unknown, and every
// leg without a digest unknown, never unrepairable (an error is never
// absence).
func TestResolveFlatDigestsUnanswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := testreg.Start(t)
	proxy := testreg.StartFaultProxy(t, reg.Host)
	img, err := testreg.NewImage(v1.Platform{OS: "linux", Architecture: "amd64"}, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := reg.PutImage(ctx, "acme/app", img)
	if err != nil {
		t.Fatal(err)
	}
	hex := strings.TrimPrefix(info.Digest, "sha256:")
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{"GET"}, PathContains: hex}, Effect: testreg.EffectStatus, Status: 500})
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64, linux/arm64]\ntargets: [{name: a, repo: "+proxy.Repo("acme/app")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, hex), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := inspect.ReadRecipeDigestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Retries: -1})
	defer c.Close()
	rep, err := inspect.Run(ctx, release.Release{Ref: "v1.0.0"}, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithDigests(d), inspect.WithSignatures(false))
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Backends[0].Verdict; v != release.VerdictUnknown {
		t.Errorf("verdict %s, want unknown; problems %q", v, rep.Backends[0].Problems)
	}
}

// TestNewerInSeries: when labels cannot tell, the tag listing decides, and
// a series tag is held back only by a newer release of its own series;
// series tags themselves are not read as releases.
func TestNewerInSeries(t *testing.T) {
	t.Parallel()
	cfg, err := release.ParseConfig("r.yml", []byte(recipeYAML))
	if err != nil {
		t.Fatal(err)
	}
	listing := []string{"2.0.0", "2.1.0", "2.1.1", "2.2.0", "2.2", "2.1", "2", "latest", "3.0.0-rc.1", "main"}
	cases := []struct{ ref, tag, want string }{
		{"v2.1.0", "2.1", "2.1.1"},
		{"v2.1.0", "2", "2.2.0"},
		{"v2.1.0", "latest", "2.2.0"},
		{"v2.1.1", "2.1", ""},
		{"v2.2.0", "2.2", ""},
		{"v2.2.0", "2", ""},
	}
	for _, c := range cases {
		if got := cfg.NewerInSeries(release.Release{Ref: c.ref}, "acme/app", c.tag, listing); got != c.want {
			t.Errorf("%s, tag %s: newer %q, want %q", c.ref, c.tag, got, c.want)
		}
	}
	if got := cfg.NewerRelease(release.Release{Ref: "v2.1.1"}, "acme/app", []string{"2.1.1", "2.2", "2"}); got != "" {
		t.Errorf("series tags read as releases: %q", got)
	}
}

// TestRecipeWithoutDigestsIsUnknown: with no digests folder and nothing
// published, nothing says which images are the release's: unknown, and
// the problem says to give --digests (not an anchor repo it has none of).
func TestRecipeWithoutDigestsIsUnknown(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t)
	cfg, err := release.ParseConfig("r.yml", []byte("platforms: [linux/amd64]\ntargets: [{name: a, repo: "+reg.Repo("acme/app")+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{})
	defer c.Close()
	rep, err := inspect.Run(context.Background(), release.Release{Ref: "v1.0.0"}, inspect.WithConfig(cfg), inspect.WithClient(c), inspect.WithSignatures(false))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	if b.Verdict != release.VerdictUnknown || !strings.Contains(strings.Join(b.Problems, "\n"), "no --digests folder") || strings.Contains(strings.Join(b.Problems, "\n"), "anchored in") {
		t.Errorf("verdict %s, problems %q", b.Verdict, b.Problems)
	}
}

// TestReadRecipeDigestsDir: merge-multiple's flat folder and gh run
// download's digests-<os>-<arch> folders both give flat digests; junk is a
// problem naming its path.
func TestReadRecipeDigestsDir(t *testing.T) {
	t.Parallel()
	hexA, hexB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	dir := t.TempDir()
	for _, p := range []string{hexA, "digests-linux-arm-v7/" + hexB, "digests-linux-arm-v7/notes.txt"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := inspect.ReadRecipeDigestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Flat) != 2 || d.Flat[0].Digest != "sha256:"+hexA || d.Flat[1].Digest != "sha256:"+hexB {
		t.Errorf("flat %+v", d.Flat)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "notes.txt") {
		t.Errorf("problems %q", d.Problems)
	}
	// The LocalAI reader leaves them alone, naming them as before.
	l, err := inspect.ReadDigestsDir(dir)
	if err != nil || len(l.Flat) != 0 || len(l.Problems) != 2 {
		t.Errorf("LocalAI reader: %v flat %v problems %q", err, l.Flat, l.Problems)
	}
}
