// Package testreg is the test harness around internal/loopreg's real
// registries: traffic counters per request kind (stats.go), basic auth
// through distribution's htpasswd access controller, a fault-injecting
// proxy (faults.go), and Start helpers that stop everything in a test's
// cleanup. It is for tests and the benchmark only; the shipped binary runs
// loopreg alone (cmd/remerge's depcheck test keeps it so).
package testreg

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/distribution/distribution/v3/configuration"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/go-skynet/remerge/internal/loopreg"

	// Registered by init: the htpasswd access controller WithAuth names.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
)

// Registry is a loopreg registry whose traffic is counted. Every seeding
// and reading helper of loopreg.Registry is promoted.
type Registry struct {
	*loopreg.Registry
	rec     *recorder
	authDir string
	// driver is the registry's storage (Snapshot, Checkpoint).
	driver storagedriver.StorageDriver
}

// Option configures New.
type Option func(*options)

type options struct {
	user, pass string
	tagPage    int
	middleware []func(http.Handler) http.Handler
}

// The seeding types and helpers, under the names tests have always used.
type (
	// Image is loopreg.Image.
	Image = loopreg.Image
	// ImageOptions is loopreg.ImageOptions.
	ImageOptions = loopreg.ImageOptions
)

// Media types the seeding helpers write and read.
const (
	MediaTypeDockerManifest = loopreg.MediaTypeDockerManifest
	MediaTypeDockerList     = loopreg.MediaTypeDockerList
	MediaTypeDockerConfig   = loopreg.MediaTypeDockerConfig
	MediaTypeDockerLayer    = loopreg.MediaTypeDockerLayer
	MediaTypeOCIManifest    = loopreg.MediaTypeOCIManifest
	MediaTypeOCIIndex       = loopreg.MediaTypeOCIIndex
)

// NewImage is loopreg.NewImage.
var NewImage = loopreg.NewImage

// IgnoreRegistryGoroutines is the goleak option for the one goroutine per
// registry that outlives Close: distribution's notification broadcaster,
// started by handlers.NewApp, which its App.Shutdown does not stop and no
// exported API reaches. Pass it to goleak.VerifyTestMain or VerifyNone in
// test binaries that start registries.
var IgnoreRegistryGoroutines = goleak.IgnoreTopFunction("github.com/docker/go-events.(*Broadcaster).run")

// WithAuth makes the registry demand HTTP basic credentials (distribution's
// htpasswd access controller), so tests can see 401s for anonymous clients
// and exercise credential lookup. The registry's own helpers send them.
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithTagPage makes the registry list tags n a page at most, asked or
// not, with a Link header to the next page, as quay.io (50-100) does;
// distribution alone lists every tag at once unless the client asks for
// a page size.
func WithTagPage(n int) Option {
	return func(o *options) { o.tagPage = n }
}

// WithMiddleware puts mw in front of the registry's handler (inside the
// request counting), for answers a test needs the registry to give, such
// as Docker Hub's rate-limit headers.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(o *options) { o.middleware = append(o.middleware, mw) }
}

// tagPages caps the n of every tag listing at page.
func tagPages(page int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if Classify(r.URL.Path) == KindTags {
				q := r.URL.Query()
				if n, err := strconv.Atoi(q.Get("n")); err != nil || n <= 0 || n > page {
					q.Set("n", strconv.Itoa(page))
					r.URL.RawQuery = q.Encode()
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// New starts a counted registry. Call Close to stop it.
func New(opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Registry{rec: newRecorder()}
	lopts := []loopreg.Option{loopreg.WithHandler(r.rec.wrap), captureDriver(&r.driver)}
	if o.tagPage > 0 {
		lopts = append(lopts, loopreg.WithHandler(tagPages(o.tagPage)))
	}
	for _, mw := range o.middleware {
		lopts = append(lopts, loopreg.WithHandler(mw))
	}
	if o.user != "" {
		path, err := r.writeHtpasswd(o.user, o.pass)
		if err != nil {
			return nil, err
		}
		lopts = append(lopts, loopreg.WithCredentials(o.user, o.pass),
			loopreg.WithConfig(func(cfg *configuration.Configuration) error {
				cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "testreg", "path": path}}
				return nil
			}))
	}
	var err error
	if r.Registry, err = loopreg.New(lopts...); err != nil {
		_ = r.removeAuth()
		return nil, err
	}
	return r, nil
}

// writeHtpasswd writes the file distribution's access controller reads
// (again on every request whose file time changed) into a temp dir that
// Close removes.
func (r *Registry) writeHtpasswd(user, pass string) (string, error) {
	dir, err := os.MkdirTemp("", "testreg-auth-")
	if err != nil {
		return "", fmt.Errorf("creating htpasswd dir: %w", err)
	}
	r.authDir = dir
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		_ = r.removeAuth()
		return "", fmt.Errorf("hashing registry password: %w", err)
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		_ = r.removeAuth()
		return "", fmt.Errorf("writing htpasswd: %w", err)
	}
	return path, nil
}

func (r *Registry) removeAuth() error {
	if r.authDir == "" {
		return nil
	}
	return os.RemoveAll(r.authDir)
}

// Close stops the registry and removes its htpasswd file. It is safe to
// call more than once.
func (r *Registry) Close() error {
	return errors.Join(r.Registry.Close(), r.removeAuth())
}

// Stats returns a snapshot of the requests served so far.
func (r *Registry) Stats() Stats { return r.rec.snapshot() }

// ResetStats zeroes the counters, so a test can count one action alone.
func (r *Registry) ResetStats() { r.rec.reset() }
