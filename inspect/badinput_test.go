package inspect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// Hostile and broken input: what registries serve and what users write.
// Each must end in a clear error on the cell, tag or file at fault, never a
// crash, a hang or unbounded memory.

// A release tag whose manifest, read with one GET (quay counts no pulls),
// comes with a body that is not JSON, and one whose body never ends: that
// tag is an error saying why, the rest of the backend is probed as usual.
func TestInspectHostileTagBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   testreg.Fault
		wantErr string
	}{
		{"not json", testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusOK, Body: "<html><body>Service Unavailable</body></html>"}, "malformed manifest"},
		{"endless", testreg.Fault{Effect: testreg.EffectEndless}, "larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pw := newProxiedWorld(t, 11)
			// Partial: every child is present everywhere, anchors kept.
			suffix := pw.byFate[scenario.Partial][0]
			tag := pw.cfg.ReleaseTags(pw.seeded.Release, suffix)[0].Tag
			c := faultClient(t, registry.Options{Retries: -1, MaxManifestBytes: 64 << 10})
			ref, err := c.Reference(pw.cfg.Targets[0].Repo + ":" + tag)
			if err != nil {
				t.Fatal(err)
			}
			// A HEAD answered by quay teaches the client that it counts no
			// pulls: the inspection then reads the tag with one GET.
			if _, err := c.Head(context.Background(), ref); err != nil {
				t.Fatal(err)
			}
			f := tt.fault
			f.Match = testreg.Match{Methods: []string{http.MethodGet}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: "/manifests/" + tag}
			pw.quay.Add(f)
			rep, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
				inspect.WithDigests(pw.digests), inspect.WithClient(c), inspect.WithBackends(suffix))
			if err != nil {
				t.Fatal(err)
			}
			b := rep.Backends[0]
			st := b.Targets["quay"].Tags[tag]
			if st.State != release.TagError || !strings.Contains(st.Error, tt.wantErr) {
				t.Errorf("tag %s: %s %q, want error mentioning %q", tag, st.State, st.Error, tt.wantErr)
			}
			if b.Verdict == release.VerdictOK {
				t.Errorf("verdict ok over a tag in error; problems %q", b.Problems)
			}
			for _, l := range b.Legs {
				for repo, c := range l.Cells {
					if c.State != release.CellPresent {
						t.Errorf("%s cell in %s: %s (%s); the bad tag spilled over", l.PlatformTag, repo, c.State, c.Error)
					}
				}
			}
			if got := pw.quay.Stats().DownloadBytes(); got > 64<<20 {
				t.Errorf("%d bytes went out to the client: the body was not cut off", got)
			}
		})
	}
}

// A list whose entries lie about their children's size: a pull of it
// fails (clients check the size), so the tag must not count as complete.
func TestInspectListLyingAboutChildSizes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := testreg.Start(t)
	const suffix, repo = "-cpu-liar", "t/backends"
	var children []manifest.Child
	digests := map[string]string{}
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := reg.PushImage(ctx, repo, v1.Platform{OS: "linux", Architecture: arch}, testreg.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests[arch] = img.Digest
		children = append(children, manifest.Child{Digest: img.Digest, MediaType: img.MediaType, Raw: img.Raw, Platform: ocispec.Platform{OS: "linux", Architecture: arch}})
	}
	raw, mt, _, err := manifest.Merge(children, manifest.DefaultMergeOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Every entry claims 100 bytes more than its child has.
	raw = lieAboutSizes(t, raw, 100)
	rel := release.Release{Ref: "v1.0.0"}
	cfg := release.DefaultConfig()
	cfg.Anchor = reg.Repo("ci-cache")
	cfg.Targets = []release.Target{{Name: "quay", Repo: reg.Repo(repo)}}
	var tags []string
	for _, tr := range cfg.ReleaseTags(rel, suffix) {
		tags = append(tags, tr.Tag)
	}
	for _, tag := range tags {
		if err := reg.PutManifest(ctx, repo, tag, raw, mt); err != nil {
			t.Fatalf("the registry refused a list with wrong sizes: %v", err)
		}
	}
	m, err := release.ParseMatrix("liar.yml", scenario.MatrixYAML([]scenario.Backend{{Suffix: suffix, Kind: release.KindMultiarch}}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(cfg), inspect.WithMatrix(m), inspect.WithClient(faultClient(t, registry.Options{Retries: -1})),
		inspect.WithDigests(&inspect.DigestsDir{Digests: map[string]map[string]string{suffix: digests}}))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	for _, tag := range tags {
		st := b.Targets["quay"].Tags[tag]
		if st.State != release.TagBroken || !strings.Contains(st.Reason, "size") {
			t.Errorf("tag %s: %s %q, want broken, saying why (the sizes)", tag, st.State, st.Reason)
		}
	}
	if b.Verdict != release.VerdictRepairable {
		t.Errorf("verdict %s, want repairable (every child is present; the list is wrong); problems %q", b.Verdict, b.Problems)
	}
	// --fail-on broken stops the release: its latest lets every pull fail
	// (issue 18, item 8: on 4da49be the gate passed it).
	g, err := release.ParseGate("broken")
	if err != nil {
		t.Fatal(err)
	}
	if fails := g.Check(rep); len(fails) == 0 || !strings.Contains(strings.Join(fails, "\n"), "latest"+suffix+" in quay is broken (broken)") {
		t.Errorf("--fail-on broken: %q, want latest%s named as broken", fails, suffix)
	}
}

// Bad references in the config are errors naming the key at fault.
func TestConfigRejectsBadReferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(c *release.Config)
		wantKey string
	}{
		{"upper case target", func(c *release.Config) { c.Targets[0].Repo = "UPPER/Case" }, "targets[0]"},
		{"digest in anchor", func(c *release.Config) { c.Anchor = "quay.io/repo@sha256:x" }, "anchor"},
		{"tag in source", func(c *release.Config) { c.Sources = []string{"host:5000/with tag:x"} }, "sources[0]"},
		{"tag after port", func(c *release.Config) { c.Targets[1].Repo = "host:5000/repo:latest" }, "targets[1]"},
		{"empty target repo", func(c *release.Config) { c.Targets[1].Repo = "" }, "targets[1]"},
		{"template without suffix", func(c *release.Config) { c.Tags.Latest = "latest" }, "tags.latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := release.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.wantKey)
			}
			// Run refuses it before any request.
			_, err = inspect.Run(context.Background(), release.Release{Ref: "v1"}, inspect.WithConfig(cfg), inspect.WithMatrix(&release.Matrix{}))
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("Run = %v, want a config error naming %s", err, tt.wantKey)
			}
		})
	}
}

// Files: an unknown config key names file and line; a matrix over the size
// limit is refused before it is read.
func TestBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "remerge.yaml")
	if err := os.WriteFile(cfgPath, []byte("anchor: quay.io/a/b\ntargets:\n  - name: q\n    repo: quay.io/a/c\n    rpeo: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := release.LoadConfig(cfgPath)
	if err == nil || !strings.Contains(err.Error(), cfgPath+":5") || !strings.Contains(err.Error(), "rpeo") {
		t.Errorf("LoadConfig = %v, want an error naming %s:5 and the key", err, cfgPath)
	}

	huge := filepath.Join(dir, "huge.yml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk is spent, but the file is over the limit.
	if err := f.Truncate(release.MaxMatrixSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = release.LoadMatrix(huge)
	if err == nil || !strings.Contains(err.Error(), "limit") || !strings.Contains(err.Error(), huge) {
		t.Errorf("LoadMatrix = %v, want a size-limit error naming the file", err)
	}
	cfg := release.DefaultConfig()
	cfg.Matrix = huge
	if _, err := inspect.Run(context.Background(), release.Release{Ref: "v1"}, inspect.WithConfig(cfg)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Run over a huge matrix = %v, want the size-limit error", err)
	}
}

// lieAboutSizes adds by to every "size" of a list's entries.
func lieAboutSizes(t *testing.T, raw []byte, by int64) []byte {
	t.Helper()
	var idx map[string]any
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	for _, e := range idx["manifests"].([]any) {
		m := e.(map[string]any)
		m["size"] = m["size"].(float64) + float64(by)
	}
	out, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
