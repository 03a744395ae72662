package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/imagetools"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

const testSuffix = "-cpu-kokoro"

// Repository paths standing for LocalAI's, on two registries.
const (
	anchorPath = "go-skynet/ci-cache"
	quayPath   = "go-skynet/local-ai-backends"
	hubPath    = "localai/localai-backends"
)

// fixture is one leg's image from testdata: the manifest of the golden
// list, its config and its one layer.
type fixture struct {
	arch   string
	raw    []byte
	digest string
	config []byte
	layer  []byte
}

func (f fixture) layerDigest() string { return manifest.DigestOf(f.layer) }

func loadFixture(t *testing.T, arch string) fixture {
	t.Helper()
	raw := readTestdata(t, arch+".manifest.json")
	return fixture{arch: arch, raw: raw, digest: manifest.DigestOf(raw), config: readTestdata(t, arch+".config.json"), layer: readTestdata(t, arch+".layer")}
}

// world is the incident in miniature: a quay-like and a Docker-Hub-like
// registry, the anchor repo, two targets, and the two children of the
// golden list.
type world struct {
	quay, hub *testreg.Registry
	// quayHost is what the config names for the quay registry: the
	// registry itself, or a fault proxy in front of it.
	quayHost string
	cfg      release.Config
	c        *registry.Client
	rel      release.Release
	amd, arm fixture
	audit    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{quay: testreg.Start(t), hub: testreg.Start(t), rel: release.Release{Ref: "v4.2.2", SHA: "abc1234def"}}
	w.amd, w.arm = loadFixture(t, "amd64"), loadFixture(t, "arm64")
	w.audit = filepath.Join(t.TempDir(), "audit.jsonl")
	w.useQuayHost(t, w.quay.Host)
	return w
}

// useQuayHost points the config (and a fresh client) at host for quay.
func (w *world) useQuayHost(t *testing.T, host string) {
	t.Helper()
	w.quayHost = host
	w.cfg = release.DefaultConfig()
	w.cfg.Anchor = w.anchor()
	w.cfg.Targets = []release.Target{{Name: "quay", Repo: w.quayTarget()}, {Name: "dockerhub", Repo: w.hubTarget()}}
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w.c = registry.New(registry.Options{Retries: -1, Keychain: authn.NewMultiKeychain()})
	t.Cleanup(w.c.Close)
}

// proxyQuay puts a fault proxy in front of quay and points the config
// (and a fresh client) at it.
func (w *world) proxyQuay(t *testing.T) *testreg.FaultProxy {
	t.Helper()
	proxy := testreg.StartFaultProxy(t, w.quay.Host)
	w.useQuayHost(t, proxy.Host())
	return proxy
}

func (w *world) anchor() string     { return w.quayHost + "/" + anchorPath }
func (w *world) quayTarget() string { return w.quayHost + "/" + quayPath }
func (w *world) hubTarget() string  { return w.hub.Repo(hubPath) }

// push puts a fixture's blobs and manifest into repo (full reference) by
// digest only, as a CI build does.
func push(t *testing.T, repo string, f fixture) {
	t.Helper()
	r, err := name.NewRepository(repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(context.Background())}
	for _, b := range []struct {
		data []byte
		mt   types.MediaType
	}{{f.config, types.DockerConfigJSON}, {f.layer, types.DockerLayer}} {
		if err := remote.WriteLayer(r, static.NewLayer(b.data, b.mt), opts...); err != nil {
			t.Fatalf("pushing blob to %s: %v", repo, err)
		}
	}
	if err := remote.Put(r.Digest(f.digest), registry.RawManifest{Raw: f.raw, Type: manifest.DockerManifest}, opts...); err != nil {
		t.Fatalf("pushing manifest to %s: %v", repo, err)
	}
}

// incident seeds v4.2.2: both children pushed to the quay target, the
// anchor repo and the Docker Hub target, then reaped from the quay target
// (blobs stay linked there), as on the morning after.
func (w *world) incident(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []fixture{w.amd, w.arm} {
		push(t, w.quay.Repo(quayPath), f)
		push(t, w.quay.Repo(anchorPath), f)
		push(t, w.hub.Repo(hubPath), f)
		if err := w.quay.Tag(ctx, anchorPath, "keepalive-1"+testSuffix+"-"+f.arch, f.digest); err != nil {
			t.Fatal(err)
		}
		if err := w.quay.Reap(ctx, quayPath, f.digest); err != nil {
			t.Fatal(err)
		}
	}
}

// report builds the inspect report of the backend by hand: states maps a
// repo to the cell state of each leg, amd64 first.
func (w *world) report(verdict release.Verdict, states map[string][2]release.CellState) *release.BackendReport {
	b := &release.BackendReport{Suffix: testSuffix, Name: "kokoro", Kind: release.KindMultiarch, Verdict: verdict}
	for i, f := range []fixture{w.amd, w.arm} {
		leg := release.Leg{PlatformTag: f.arch, Platform: "linux/" + f.arch, Digest: f.digest, DigestFrom: release.FromAnchor, Cells: map[string]release.Cell{}}
		for repo, s := range states {
			leg.Cells[repo] = release.Cell{State: s[i]}
		}
		b.Legs = append(b.Legs, leg)
	}
	return b
}

// incidentReport is what inspect says about the incident.
func (w *world) incidentReport() *release.BackendReport {
	p, m := release.CellPresent, release.CellMissing
	return w.report(release.VerdictRepairable, map[string][2]release.CellState{
		w.anchor(): {p, p}, w.quayTarget(): {m, m}, w.hubTarget(): {p, p},
	})
}

func (w *world) plan(t *testing.T, b *release.BackendReport, target string, opts ...Option) *Plan {
	t.Helper()
	p, err := NewPlan(context.Background(), w.c, w.cfg, w.rel, b, target, opts...)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

func (w *world) execute(t *testing.T, p *Plan, opts ...Option) *Result {
	t.Helper()
	r, err := Execute(context.Background(), w.c, p, append([]Option{WithAudit(w.audit), withUser("tester")}, opts...)...)
	if err != nil {
		t.Fatalf("Execute: %v\nplan:\n%s", err, p)
	}
	return r
}

// resolve returns where tag points in reg's repo, "" when missing.
func resolve(t *testing.T, reg *testreg.Registry, repo, tag string) string {
	t.Helper()
	ok, err := reg.ManifestExists(context.Background(), repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	d, err := reg.Resolve(context.Background(), repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func auditLines(t *testing.T, path string) []AuditEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []AuditEntry
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var e AuditEntry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func tagNames(w *world) (relTag, sha, latest string) {
	tags := w.cfg.ReleaseTags(w.rel, testSuffix)
	for _, tr := range tags {
		switch tr.Role {
		case release.RoleRelease:
			relTag = tr.Tag
		case release.RoleSHA:
			sha = tr.Tag
		case release.RoleLatest:
			latest = tr.Tag
		}
	}
	if !strings.HasPrefix(sha, "sha-abc1234") {
		panic("unexpected sha tag " + sha)
	}
	return relTag, sha, latest
}

// ciDigest is the digest real buildx (v0.36.1, the oracle) publishes when
// CI's merge step runs over these children: `imagetools create` over
// `$(printf 'SRC@sha256:%s ' *)` in a digests folder, i.e. in ascending hex
// order. The children are pushed into a scratch repo to be read.
func (w *world) ciDigest(t *testing.T, fs ...fixture) string {
	t.Helper()
	if len(fs) == 0 {
		fs = []fixture{w.amd, w.arm}
	}
	src := w.quay.Repo("oracle/src")
	var sources []string
	for _, f := range fs {
		push(t, src, f)
		sources = append(sources, src+"@"+f.digest)
	}
	slices.Sort(sources) // the glob's order: one source repo, so by hex
	bx := imagetools.Buildx{Path: tools.Buildx.Require(t), DockerConfig: t.TempDir()}
	raw, err := bx.DryRun(context.Background(), sources)
	if err != nil {
		t.Fatal(err)
	}
	return manifest.DigestOf(raw)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
