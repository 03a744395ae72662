// Package testreg runs real registries on loopback for tests and for the
// demo: distribution/v3 in-process over a temp-dir filesystem driver, with
// deletes enabled, per-repository blob links and cross-repo mounts, as quay
// and Docker Hub behave. It also seeds images and lists, simulates quay's
// per-repo GC (Reap) and lost blob links (DropBlob), counts traffic, and puts
// a fault-injecting proxy in front of a registry (faults.go).
//
// The core takes no *testing.T so the demo command can use it; Start and
// StartFaultProxy are the test conveniences that register cleanup.
package testreg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// Registered by init: the htpasswd access controller and the
	// filesystem storage driver the configuration below names.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Registry is one running distribution registry on 127.0.0.1, spoken to over
// plain HTTP. Two of them stand for quay.io and docker.io.
type Registry struct {
	// Host is "127.0.0.1:port", the registry part of every reference.
	Host string

	root      string
	ownRoot   bool
	user      string
	pass      string
	app       *handlers.App
	srv       *http.Server
	rec       *recorder
	transport *http.Transport
	client    *http.Client
	closeOnce sync.Once
	closeErr  error
}

// Option configures New.
type Option func(*options)

type options struct {
	user, pass string
	root       string
}

// WithAuth makes the registry demand HTTP basic credentials (htpasswd), so
// tests can see 401s for anonymous clients and exercise credential lookup.
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithRootDir keeps the storage in dir instead of a fresh temp dir, and
// leaves it in place on Close, so the demo can show where the bytes are.
func WithRootDir(dir string) Option {
	return func(o *options) { o.root = dir }
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
// to stop it and remove its storage.
func New(opts ...Option) (*Registry, error) {
	silenceLogs()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Registry{user: o.user, pass: o.pass, rec: newRecorder()}
	if o.root != "" {
		if err := os.MkdirAll(o.root, 0o755); err != nil {
			return nil, fmt.Errorf("creating registry root: %w", err)
		}
		r.root = o.root
	} else {
		dir, err := os.MkdirTemp("", "testreg-")
		if err != nil {
			return nil, fmt.Errorf("creating registry root: %w", err)
		}
		r.root, r.ownRoot = dir, true
	}
	if err := r.start(); err != nil {
		if r.ownRoot {
			_ = os.RemoveAll(r.root)
		}
		return nil, err
	}
	return r, nil
}

func (r *Registry) start() error {
	cfg, err := r.config()
	if err != nil {
		return err
	}
	app, err := newApp(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = app.Shutdown()
		return fmt.Errorf("listening for registry: %w", err)
	}
	r.app = app
	r.Host = ln.Addr().String()
	r.srv = &http.Server{Handler: r.rec.wrap(app), ReadHeaderTimeout: 10 * time.Second}
	r.transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	r.client = &http.Client{Transport: r.transport}
	go func() { _ = r.srv.Serve(ln) }()
	return nil
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

func (r *Registry) config() (*configuration.Configuration, error) {
	cfg := &configuration.Configuration{}
	cfg.Log.Level = "error"
	cfg.HTTP.Secret = "testreg-secret"
	cfg.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": filepath.Join(r.root, "data")},
		"delete":     configuration.Parameters{"enabled": true},
		"maintenance": configuration.Parameters{
			// The purger is a goroutine sleeping up to an hour; off, so
			// Close leaves nothing running (goleak).
			"uploadpurging": map[any]any{"enabled": false},
		},
		"redirect": configuration.Parameters{"disable": true},
	}
	if r.user != "" {
		path := filepath.Join(r.root, "htpasswd")
		hash, err := bcrypt.GenerateFromPassword([]byte(r.pass), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("hashing registry password: %w", err)
		}
		if err := os.WriteFile(path, []byte(r.user+":"+string(hash)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("writing htpasswd: %w", err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "testreg", "path": path}}
	}
	return cfg, nil
}

// Close stops the server and, unless WithRootDir was given, removes the
// storage. It is safe to call more than once.
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
		err = errors.Join(err, r.app.Shutdown(), closeEventSink(r.app))
		if r.ownRoot {
			err = errors.Join(err, os.RemoveAll(r.root))
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

// RootDir is where the registry keeps its storage.
func (r *Registry) RootDir() string { return r.root }

// Stats returns a snapshot of the requests served so far.
func (r *Registry) Stats() Stats { return r.rec.snapshot() }

// ResetStats zeroes the counters, so a test can count one action alone.
func (r *Registry) ResetStats() { r.rec.reset() }

// Authenticator returns the credentials this registry accepts, or
// authn.Anonymous without WithAuth, for go-containerregistry clients.
func (r *Registry) Authenticator() authn.Authenticator {
	if r.user == "" {
		return authn.Anonymous
	}
	return &authn.Basic{Username: r.user, Password: r.pass}
}

// Credentials returns the user and password given to WithAuth, empty
// without auth.
func (r *Registry) Credentials() (user, pass string) { return r.user, r.pass }
