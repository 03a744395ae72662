package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"

	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// The release measured: LocalAI's size (386 backends, 71 multi-arch pairs,
// 457 legs), fates spread as on v4.2.2.
const (
	genBackends = 386
	genPairs    = 71
	// concurrency is the per-registry bound given to remerge: its default.
	concurrency = registry.DefaultConcurrency
)

// fixture is a seeded release in two registries, each behind a proxy that
// adds latency and counts requests, plus the binaries under measurement.
// Seeding goes straight to the registries; only the measured work goes
// through the proxies.
type fixture struct {
	dir       string
	quay, hub *testreg.Registry
	// quayProxy fronts quay (its target and the anchor), hubProxy docker.io.
	quayProxy, hubProxy *testreg.FaultProxy
	seeded              *scenario.Seeded
	// cfg and cfgPath name the proxies' hosts, so every measured request
	// passes a proxy.
	cfg     release.Config
	cfgPath string
	rel     scenario.Release
	// backends are the release's backends, as seeded.
	backends []scenario.Backend
	remerge  string // path of the built remerge binary
	crane    string // path of the built crane binary
	// dockerConfig is an empty Docker config dir: no credentials are read
	// from the machine running the benchmark.
	dockerConfig string
	seedTime     time.Duration
}

// newFixture starts the registries and proxies, seeds the release and
// builds remerge and crane. Close undoes all of it.
func newFixture(ctx context.Context) (f *fixture, err error) {
	return newFixtureOf(ctx, scenario.Generated(genBackends, genPairs), nil)
}

// newFixtureOf is newFixture over other backends; with from, it reuses
// from's binaries instead of building them again. regOpts go to both
// registries.
func newFixtureOf(ctx context.Context, backends []scenario.Backend, from *fixture, regOpts ...testreg.Option) (f *fixture, err error) {
	dir, err := os.MkdirTemp("", "remerge-bench-")
	if err != nil {
		return nil, fmt.Errorf("creating bench dir: %w", err)
	}
	f = &fixture{dir: dir, rel: scenario.DefaultRelease(), backends: backends}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.Close())
			f = nil
		}
	}()
	if f.quay, err = testreg.New(regOpts...); err != nil {
		return f, fmt.Errorf("starting quay registry: %w", err)
	}
	if f.hub, err = testreg.New(append(regOpts, testreg.WithMiddleware(dockerHubHeaders))...); err != nil {
		return f, fmt.Errorf("starting hub registry: %w", err)
	}
	if f.quayProxy, err = testreg.NewFaultProxy(f.quay.Host); err != nil {
		return f, fmt.Errorf("starting quay proxy: %w", err)
	}
	if f.hubProxy, err = testreg.NewFaultProxy(f.hub.Host); err != nil {
		return f, fmt.Errorf("starting hub proxy: %w", err)
	}
	if err := f.seed(ctx); err != nil {
		return f, err
	}
	f.dockerConfig = filepath.Join(dir, "docker")
	if err := os.MkdirAll(f.dockerConfig, 0o755); err != nil {
		return f, fmt.Errorf("creating docker config dir: %w", err)
	}
	if from != nil {
		f.remerge, f.crane = from.remerge, from.crane
		return f, nil
	}
	if f.remerge, err = goBuild(ctx, dir, "remerge", "./cmd/remerge"); err != nil {
		return f, err
	}
	if f.crane, err = goBuild(ctx, dir, "crane", "github.com/google/go-containerregistry/cmd/crane"); err != nil {
		return f, err
	}
	return f, nil
}

// dockerHubHeaders makes the docker.io side answer as Docker Hub does:
// every answer carries ratelimit-limit and ratelimit-remaining (a limit
// never spent here), from which remerge learns that this registry counts
// manifest GETs as pulls, as it knows for Docker Hub's own hosts.
func dockerHubHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Ratelimit-Limit", "1000000;w=21600")
		w.Header().Set("Ratelimit-Remaining", "1000000;w=21600")
		next.ServeHTTP(w, r)
	})
}

// freshCache is a new empty cache directory for one run of the binary
// (REMERGE_CACHE_DIR), so a run reads nothing an earlier one kept and
// nothing lands in the user's cache.
func (f *fixture) freshCache() (string, error) {
	d, err := os.MkdirTemp(f.dir, "cache-")
	if err != nil {
		return "", fmt.Errorf("creating cache dir: %w", err)
	}
	return d, nil
}

// seed pushes the release into the registries directly (not through the
// proxies) and writes a config that names the proxies instead.
func (f *fixture) seed(ctx context.Context) error {
	start := time.Now()
	seedDir := filepath.Join(f.dir, "release")
	if err := os.MkdirAll(seedDir, 0o755); err != nil {
		return fmt.Errorf("creating release dir: %w", err)
	}
	s, err := scenario.Seed(ctx, seedDir, f.quay.Registry, f.hub.Registry, f.rel, f.backends, testreg.ImageOptions{}, scenario.WriterSteps())
	if err != nil {
		return fmt.Errorf("seeding release: %w", err)
	}
	f.seedTime = time.Since(start)
	f.seeded = s
	f.cfg = s.Config
	f.cfg.Anchor = f.quayProxy.Repo(scenario.Anchor)
	f.cfg.Targets = []release.Target{
		{Name: "quay", Repo: f.quayProxy.Repo(scenario.QuayTarget)},
		{Name: "dockerhub", Repo: f.hubProxy.Repo(scenario.HubTarget)},
	}
	f.cfgPath = filepath.Join(f.dir, "remerge-proxied.yaml")
	cfg := fmt.Sprintf("matrix: %s\nanchor: %s\ntargets:\n  - name: quay\n    repo: %s\n  - name: dockerhub\n    repo: %s\n",
		s.MatrixPath, f.cfg.Anchor, f.cfg.Targets[0].Repo, f.cfg.Targets[1].Repo)
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("writing proxied config: %w", err)
	}
	return nil
}

// release is the release every measurement inspects: ref, run and sha, so
// the anchors resolve and the sha tag is probed too.
func (f *fixture) release() release.Release {
	return release.Release{Ref: f.rel.Ref, Run: f.rel.Run, SHA: f.rel.SHA}
}

// setLatency sets the added latency on both proxies, installs faults on
// both, and zeroes their counters, so the next measurement counts only its
// own requests.
func (f *fixture) setLatency(d time.Duration, faults ...testreg.Fault) {
	for _, p := range []*testreg.FaultProxy{f.quayProxy, f.hubProxy} {
		p.Clear()
		p.SetLatency(d)
		for _, fl := range faults {
			p.Add(fl)
		}
		p.ResetStats()
	}
}

// clearFaults removes every fault and the latency from both proxies.
func (f *fixture) clearFaults() {
	for _, p := range []*testreg.FaultProxy{f.quayProxy, f.hubProxy} {
		p.Clear()
	}
}

// Close stops the proxies and registries and removes the bench dir.
func (f *fixture) Close() error {
	var errs []error
	for _, p := range []*testreg.FaultProxy{f.quayProxy, f.hubProxy} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	for _, r := range []*testreg.Registry{f.quay, f.hub} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	errs = append(errs, os.RemoveAll(f.dir))
	return errors.Join(errs...)
}

// goBuild builds pkg (a path in this module or a module package) into dir
// and returns the binary's path.
func goBuild(ctx context.Context, dir, name, pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// goTool is the go command on PATH (the Makefile adds /usr/local/go/bin);
// without one, building remerge and crane fails with exec's own message.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// moduleRoot is the directory holding go.mod, found upward from the
// working directory (go test runs in the package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// goVersion is `go version` of the toolchain that builds the binaries.
func goVersion(ctx context.Context) string {
	b, err := exec.CommandContext(ctx, goTool(), "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(b))
}
