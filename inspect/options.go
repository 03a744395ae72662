package inspect

import (
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// Option configures Run. Defaults live in one place: defaultSettings.
type Option func(*settings)

type settings struct {
	cfg      release.Config
	matrix   *release.Matrix
	digests  *DigestsDir
	events   func(Event)
	deep     bool
	client   *registry.Client
	backends map[string]bool
	noSigs   bool
	create   map[string]bool
}

// WithCreateTargets names targets whose repo the caller means to create
// (repair --create-target): when such a repo does not exist it is judged
// as the empty repo it will be, its cells missing, not unknown.
func WithCreateTargets(names ...string) Option {
	return func(s *settings) {
		if s.create == nil {
			s.create = map[string]bool{}
		}
		for _, n := range names {
			s.create[n] = true
		}
	}
}

func defaultSettings() settings {
	return settings{cfg: release.DefaultConfig()}
}

// WithSignatures turns the signature lookups of complete tags on (the
// default) or off; off, no tag carries a signature and no signature
// problem is reported.
func WithSignatures(on bool) Option { return func(s *settings) { s.noSigs = !on } }

// WithConfig sets the repos and tag templates (default: LocalAI's).
func WithConfig(cfg release.Config) Option { return func(s *settings) { s.cfg = cfg } }

// WithMatrix sets the backend list. Without it Run loads cfg.Matrix.
func WithMatrix(m *release.Matrix) Option { return func(s *settings) { s.matrix = m } }

// WithDigests makes a digests folder (gh run download) the first source of
// expected digests.
func WithDigests(d *DigestsDir) Option { return func(s *settings) { s.digests = d } }

// WithEvents delivers every fact as soon as it is known, so a screen can
// paint live. fn runs on a goroutine of its own, one event at a time, in
// order, and never under the engine's lock: a slow fn delays no probe, and
// fn may call into anything. Facts are never dropped; a ProgressEvent not
// yet delivered is replaced by a newer one (internal/pubsub's policy). Run
// returns once fn has seen the last event, or when ctx ends.
func WithEvents(fn func(Event)) Option { return func(s *settings) { s.events = fn } }

// WithDeep also checks that each present child's config and layer blobs are
// linked in the repo holding it.
func WithDeep(deep bool) Option { return func(s *settings) { s.deep = deep } }

// WithClient sets the registry client (shared with repair so that limits and
// Retry-After pauses are shared too).
func WithClient(c *registry.Client) Option { return func(s *settings) { s.client = c } }

// WithBackends restricts the inspection to these suffixes (exact match).
func WithBackends(suffixes ...string) Option {
	return func(s *settings) {
		if len(suffixes) == 0 {
			return
		}
		s.backends = map[string]bool{}
		for _, x := range suffixes {
			s.backends[x] = true
		}
	}
}
