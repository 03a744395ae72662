// Package loopreg runs real container registries on loopback: distribution
// (the CNCF registry) in-process over an in-memory storage driver, with
// deletes enabled, per-repository blob links and cross-repository mounts,
// as quay.io and Docker Hub behave. It has what the demo's seeder
// (internal/scenario) needs and no more: push an image by digest, tag it,
// publish a single image, reap a manifest as quay's per-repo GC does, drop
// a blob link. What only tests use (snapshots, checkpoints, hand-written
// lists, existence checks) is internal/testkit/testreg's, built on the options
// here.
//
// It is what `remerge-demo` runs, so it ships in that binary: it imports no
// test code and only the part of distribution that serves the API (the
// handlers package, which still links distribution's redis, prometheus and
// OpenTelemetry API clients, unused here; its storage drivers, and with
// them the OpenTelemetry SDK, exporters and gRPC, are left out: see
// memdriver.go). Tests reach it through internal/testkit/testreg, which adds
// traffic counters, auth and a fault proxy.
package loopreg

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sirupsen/logrus"
)

// Registry is one running distribution registry on 127.0.0.1, spoken to over
// plain HTTP. Two of them stand for quay.io and docker.io.
type Registry struct {
	// Host is "127.0.0.1:port", the registry part of every reference.
	Host string

	user, pass string
	driver     *memDriver
	app        *handlers.App
	srv        *http.Server
	transport  *http.Transport
	client     *http.Client
	closeOnce  sync.Once
	closeErr   error
}

// Option configures New.
type Option func(*options)

type options struct {
	user, pass string
	configure  []func(*configuration.Configuration) error
	wrap       []func(http.Handler) http.Handler
}

// WithCredentials makes the registry's own helpers (pushes, tags, reaps)
// and Authenticator send these basic-auth credentials. The registry only
// demands them when WithConfig sets up an access controller.
func WithCredentials(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithConfig edits distribution's configuration before the registry starts,
// e.g. to add an access controller. The edit runs after the defaults.
func WithConfig(f func(*configuration.Configuration) error) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// WithHandler wraps the registry's HTTP handler, e.g. to count traffic.
// Wrappers apply in order, the first one outermost.
func WithHandler(wrap func(http.Handler) http.Handler) Option {
	return func(o *options) { o.wrap = append(o.wrap, wrap) }
}

var quietLogs sync.Once

// silenceLogs discards distribution's logrus output. Its logger is the
// process-wide logrus standard logger; nothing else in remerge uses it, and
// its chatter would scribble over the demo's TUI.
func silenceLogs() {
	quietLogs.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.PanicLevel)
	})
}

// New starts a registry and returns once it accepts connections. Call Close
// to stop it; its storage lives in memory and goes with it.
func New(opts ...Option) (*Registry, error) {
	silenceLogs()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Registry{user: o.user, pass: o.pass, driver: newMemDriver()}
	cfg := r.config()
	for _, f := range o.configure {
		if err := f(cfg); err != nil {
			return nil, err
		}
	}
	app, err := newApp(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = app.Shutdown()
		return nil, fmt.Errorf("listening for registry: %w", err)
	}
	var h http.Handler = app
	for i := len(o.wrap) - 1; i >= 0; i-- {
		h = o.wrap[i](h)
	}
	r.app = app
	r.Host = ln.Addr().String()
	r.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	r.transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	r.client = &http.Client{Transport: r.transport}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// newApp builds the distribution app; its constructor panics on bad
// configuration, which we turn into an error.
func newApp(cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("starting distribution app: %v", p)
		}
	}()
	return handlers.NewApp(context.Background(), cfg), nil
}

func (r *Registry) config() *configuration.Configuration {
	cfg := &configuration.Configuration{}
	cfg.Log.Level = "error"
	cfg.HTTP.Secret = "loopreg-secret"
	cfg.Storage = configuration.Storage{
		driverName: configuration.Parameters{"driver": r.driver},
		"delete":   configuration.Parameters{"enabled": true},
		"maintenance": configuration.Parameters{
			// The purger is a goroutine sleeping up to an hour; off, so
			// Close leaves nothing of ours running.
			"uploadpurging": map[any]any{"enabled": false},
		},
		"redirect": configuration.Parameters{"disable": true},
	}
	return cfg
}

// Close stops the server and drops the storage. It is safe to call more
// than once.
//
// distribution's notification broadcaster, started by handlers.NewApp, has
// no way to be stopped: one idle goroutine per registry stays until the
// process exits (testreg tells goleak about it).
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		// Our own idle connections first: Shutdown counts a dialled but
		// unused connection as busy for five seconds.
		r.transport.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var err error
		if r.srv.Shutdown(ctx) != nil {
			// A client still holds a connection (a stalled request,
			// another transport's spare dial): cut it.
			err = r.srv.Close()
		}
		if e := r.app.Shutdown(); e != nil && err == nil {
			err = e
		}
		if err != nil {
			r.closeErr = fmt.Errorf("closing registry %s: %w", r.Host, err)
		}
	})
	return r.closeErr
}

// Repo returns the full reference of a repository in this registry, e.g.
// "127.0.0.1:5000/go-skynet/ci-cache", as a configuration would name it.
func (r *Registry) Repo(path string) string { return r.Host + "/" + path }

// URL returns the base URL, "http://127.0.0.1:port".
func (r *Registry) URL() string { return "http://" + r.Host }

// Authenticator returns the credentials given to WithCredentials, or
// authn.Anonymous, for go-containerregistry clients.
func (r *Registry) Authenticator() authn.Authenticator {
	if r.user == "" {
		return authn.Anonymous
	}
	return &authn.Basic{Username: r.user, Password: r.pass}
}

// Credentials returns the user and password given to WithCredentials.
func (r *Registry) Credentials() (user, pass string) { return r.user, r.pass }
