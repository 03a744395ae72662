package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// defaultConfigFile is read when --config is not given, if it exists.
const defaultConfigFile = "remerge.yaml"

// options holds the persistent flags every command shares (DESIGN.md
// section 9). Commands read them only through load, which applies the
// precedence: flags over the config file over LocalAI's defaults.
type options struct {
	configFile string
	matrixFile string
	release    string
	// releases and digestsDirs are every --release and --digests given:
	// the TUI takes several releases (one --digests each, or none).
	releases    []string
	digestsDirs []string
	run         string
	sha         string
	digestsDir  string
	deep        bool
	concurrency int
	timeout     time.Duration
	insecure    []string
	// noCache: --no-cache, read every manifest and config from the
	// registries instead of the disk cache.
	noCache bool
	// tuiSign: --sign for the TUI's r/R (flags of tui and the root only).
	tuiSign signFlags
}

func newOptions() *options {
	return &options{concurrency: registry.DefaultConcurrency, timeout: registry.DefaultTimeout}
}

// addFlags registers the shared flags as persistent flags of the root.
func (o *options) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.configFile, "config", "", "config file (default ./"+defaultConfigFile+" if present, else LocalAI's defaults)")
	fs.StringVar(&o.matrixFile, "matrix", "", "backend matrix file (overrides the config's matrix)")
	fs.StringArrayVar(&o.releases, "release", nil, "release ref: a tag such as v4.2.2, or a branch (the TUI takes several)")
	fs.StringVar(&o.run, "run", "", "CI run id whose keepalive anchors give the expected digests")
	fs.StringVar(&o.sha, "sha", "", "commit sha of the release (adds the sha-<7> tag)")
	// pflag reads a back-quoted word as the argument's name: keep the
	// gh command free of back quotes, and name the argument DIR.
	fs.StringArrayVar(&o.digestsDirs, "digests", nil, "`DIR` written by gh run download <run> -p 'digests*' (one folder per artifact)")
	fs.BoolVar(&o.deep, "deep", false, "also check that every present child's blobs are linked in its repo")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "most requests in flight per registry")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "per-request timeout (headers, and silence while reading a body)")
	fs.StringArrayVar(&o.insecure, "insecure", nil, "registry host:port spoken to over plain HTTP (repeatable; adds to the config)")
	fs.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the cache of manifests and configs by digest ($"+cas.DirEnv+", else $XDG_CACHE_HOME/remerge)")
}

var (
	runIDPattern = regexp.MustCompile(`^[0-9]+$`)
	shaPattern   = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
)

// releaseRef checks the release flags and returns the release they name.
// needRef is false for commands such as runs that work without a release.
func (o *options) releaseRef(needRef bool) (release.Release, error) {
	if err := o.one(); err != nil {
		return release.Release{}, err
	}
	if needRef && o.release == "" {
		return release.Release{}, usagef("--release is required (a tag such as v4.2.2, or a branch)")
	}
	if o.release != "" {
		if why := badRefName(o.release); why != "" {
			return release.Release{}, usagef("--release %q: not a git tag or branch name: %s", o.release, why)
		}
	}
	if o.run != "" && !runIDPattern.MatchString(o.run) {
		return release.Release{}, usagef("--run %q: want a CI run id (digits only)", o.run)
	}
	if o.sha != "" && !shaPattern.MatchString(o.sha) {
		return release.Release{}, usagef("--sha %q: want 7 to 40 lowercase hex digits", o.sha)
	}
	return release.Release{Ref: o.release, Run: o.run, SHA: o.sha}, nil
}

// badRefName says why s is not a valid git ref name (the rules of git
// check-ref-format for a branch or tag), or "" when it is one. The release
// ref ends up in tag names and registry requests, so a typo such as
// "v4.2.2 bad" must stop here, not as a 404 per backend.
func badRefName(s string) string {
	switch {
	case s == "@":
		return `"@" alone is not a ref`
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return "starts or ends with /"
	case strings.HasPrefix(s, "-"):
		return "starts with -"
	case strings.HasSuffix(s, "."):
		return "ends with ."
	case strings.Contains(s, ".."):
		return `contains ".."`
	case strings.Contains(s, "//"):
		return `contains "//"`
	case strings.Contains(s, "@{"):
		return `contains "@{"`
	}
	for _, r := range s {
		switch {
		case r == ' ':
			return "contains a space"
		case r < 0x20 || r == 0x7f:
			return "contains a control character"
		case strings.ContainsRune("~^:?*[\\", r):
			return fmt.Sprintf("contains %q", r)
		}
	}
	for _, part := range strings.Split(s, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return fmt.Sprintf("component %q starts with . or ends with .lock", part)
		}
	}
	return ""
}

// config loads the config file (explicit, or ./remerge.yaml if present, or
// the defaults) and applies the flags over it.
func (o *options) config() (release.Config, error) {
	if o.concurrency < 1 {
		return release.Config{}, usagef("--concurrency %d: want 1 or more", o.concurrency)
	}
	if o.timeout <= 0 {
		return release.Config{}, usagef("--timeout %s: want a positive duration", o.timeout)
	}
	cfg := release.DefaultConfig()
	path := o.configFile
	if path == "" {
		if _, err := os.Stat(defaultConfigFile); err == nil {
			path = defaultConfigFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return release.Config{}, usagef("config %s: %w", defaultConfigFile, err)
		}
	}
	if path != "" {
		c, err := release.LoadConfig(path)
		if err != nil {
			return release.Config{}, asUsage(err)
		}
		cfg = c
	}
	if o.matrixFile != "" && cfg.Recipe() {
		return release.Config{}, usagef("--matrix %s: the config names platforms (one image, docker's multi-runner recipe), not a backend matrix", o.matrixFile)
	}
	if o.matrixFile != "" {
		cfg.Matrix = o.matrixFile
	}
	for _, h := range o.insecure {
		if h == "" {
			return release.Config{}, usagef("--insecure %q: want host:port", h)
		}
	}
	cfg.Insecure = append(cfg.Insecure, o.insecure...)
	return cfg, nil
}

// loaded is everything a release command needs, read and checked up front
// so that input errors surface as exit 2 before any registry is contacted.
type loaded struct {
	rel     release.Release
	cfg     release.Config
	matrix  *release.Matrix
	digests *inspect.DigestsDir
}

// load reads the release flags, config, matrix and digests folder.
func (o *options) load() (*loaded, error) {
	rel, err := o.releaseRef(true)
	if err != nil {
		return nil, err
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	m, err := release.LoadBackends(cfg)
	if err != nil {
		return nil, asUsage(err)
	}
	if len(m.Backends) == 0 {
		why := "no include entry with a tag-suffix"
		if len(m.Problems) > 0 {
			why += " (" + strings.Join(m.Problems, "; ") + ")"
		}
		return nil, usagef("matrix %s: no backend: %s", m.Path, why)
	}
	l := &loaded{rel: rel, cfg: cfg, matrix: m}
	if o.digestsDir != "" {
		read := inspect.ReadDigestsDir
		if cfg.Recipe() {
			read = inspect.ReadRecipeDigestsDir
		}
		d, err := read(o.digestsDir)
		if err != nil {
			return nil, asUsage(err)
		}
		l.digests = d
	}
	return l, nil
}

// inspectOptions are the inspection's options for what was loaded, one
// client and the backends asked for (all when empty).
func (l *loaded) inspectOptions(c *registry.Client, deep bool, backends []string) []inspect.Option {
	return []inspect.Option{
		inspect.WithConfig(l.cfg),
		inspect.WithMatrix(l.matrix),
		inspect.WithDigests(l.digests),
		inspect.WithClient(c),
		inspect.WithDeep(deep),
		inspect.WithBackends(backends...),
	}
}

// client builds the one registry client of the process from the flags and
// the config's insecure list, with the disk cache unless --no-cache.
func (o *options) client(cfg release.Config) *registry.Client {
	return registry.New(registry.Options{
		Concurrency: o.concurrency,
		Timeout:     o.timeout,
		Insecure:    cfg.Insecure,
		UserAgent:   "remerge/" + version(),
		Cache:       o.cache(),
	})
}

// cache opens the disk cache, or returns nil with --no-cache. A cache that
// cannot be opened (a read-only home) only costs requests: it is said on
// stderr and the run goes on without it.
func (o *options) cache() *cas.Store {
	if o.noCache {
		return nil
	}
	s, err := cas.Open(cas.DefaultDir(), cas.DefaultMaxBytes)
	if err != nil {
		fmt.Fprintf(os.Stderr, "remerge: running without the cache: %v\n", err)
		return nil
	}
	return s
}

// resolveSuffixes makes sure every suffix names a backend of the matrix,
// exactly: -cpu-kokoro never matches -cpu-kokoros. A suffix may be given
// without its leading dash (cpu-kokoro), since a leading dash reads as a
// flag on the command line unless it follows "--".
func resolveSuffixes(flag string, m *release.Matrix, suffixes []string) ([]string, error) {
	out := make([]string, 0, len(suffixes))
	for _, s := range suffixes {
		if _, ok := m.Backend(s); ok {
			out = append(out, s)
			continue
		}
		if !strings.HasPrefix(s, "-") {
			if _, ok := m.Backend("-" + s); ok {
				out = append(out, "-"+s)
				continue
			}
		}
		return nil, usagef("%s %q: no such tag-suffix in matrix %s", flag, s, m.Path)
	}
	return out, nil
}

// describeRelease is used in messages: "v4.2.2 (run 123)".
func describeRelease(rel release.Release) string {
	if rel.Run == "" {
		return rel.Ref
	}
	return fmt.Sprintf("%s (run %s)", rel.Ref, rel.Run)
}

// one takes the one --release (and --digests) a command other than the TUI
// works on; several are a usage error.
func (o *options) one() error {
	if len(o.releases) > 1 {
		return usagef("--release given %d times: only the TUI shows several releases", len(o.releases))
	}
	if len(o.digestsDirs) > 1 {
		return usagef("--digests given %d times: give it once per --release, to the TUI", len(o.digestsDirs))
	}
	if len(o.releases) == 1 {
		o.release = o.releases[0]
	}
	if len(o.digestsDirs) == 1 {
		o.digestsDir = o.digestsDirs[0]
	}
	return nil
}
