// Package registry is remerge's one registry client, shared by inspect
// (probing) and repair (copying and pushing). It sits on go-containerregistry
// and adds the manners DESIGN.md section 8 asks for: one transport, one
// token per repository scope, bounded concurrency per registry host,
// Retry-After honoured per host by every worker, retries that never replay
// a streaming upload, idle timeouts on bodies, a cap on manifest size,
// plain HTTP only where allowed, and error text free of credentials.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/cas"
)

// Defaults for the zero values of Options. DefaultConcurrency is per
// registry host: inspection is mostly small HEADs, which Docker Hub does not
// count against its pull limit, a 429 with Retry-After pauses that host for
// every worker and one without makes it take fewer at once, so 16 in flight
// is polite and keeps a LocalAI-sized release within seconds
// (bench/results.md).
const (
	DefaultConcurrency      = 16
	DefaultTimeout          = 30 * time.Second
	DefaultRetries          = 3
	DefaultRetryDeadline    = 2 * time.Minute
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultMaxManifestBytes = 4 << 20
)

// Options configures a Client. The zero value is usable: every field has a
// default, applied in one place (withDefaults).
type Options struct {
	// Concurrency is the most requests in flight to one registry host, so a
	// big release does not open hundreds of connections to Docker Hub.
	Concurrency int
	// Timeout bounds the wait for response headers and the silence allowed
	// while reading a body; a stalled registry fails instead of hanging.
	Timeout time.Duration
	// Retries is how many times a 5xx, 408 or connection failure is
	// tried again. Negative means no retries at all, throttles included.
	Retries int
	// RetryDeadline bounds how long one request keeps being retried after
	// throttle answers (429, 503), counted from its first send (time spent
	// waiting for a place does not count): a throttled
	// request is retried, after the host's Retry-After or a jittered
	// backoff, until then, and not forever.
	RetryDeadline time.Duration
	// MaxRetryAfter caps a server's Retry-After, and the backoff used when
	// a 429 does not carry one.
	MaxRetryAfter time.Duration
	// Insecure lists registries (host:port, or host for every port) spoken
	// to over plain HTTP, and only so: https is not tried for them. Loopback
	// hosts (localhost, 127.0.0.0/8, ::1) are treated as listed. Plain HTTP
	// to any other host is refused, whatever its address looks like.
	Insecure []string
	// Keychain supplies credentials; authn.DefaultKeychain (Docker config,
	// credential helpers) when nil.
	Keychain authn.Keychain
	// UserAgent is sent with every request when not empty.
	UserAgent string
	// MaxManifestBytes bounds a manifest body; bigger or endless is an error.
	MaxManifestBytes int64
	// Cache keeps manifests and config blobs by digest on disk across
	// runs (see content.go); nil keeps them for the Client's life only.
	Cache *cas.Store
	// PullCounted lists registry hosts (host:port) that count manifest
	// GETs as pulls, like Docker Hub, whose own hosts are always counted;
	// bytes known to be elsewhere are read there instead.
	PullCounted []string
	// RootCAs, when set, are the certificate authorities trusted for
	// https instead of the system's: a registry with a private CA, or a
	// test registry with a self-signed certificate. Verification is never
	// turned off.
	RootCAs *x509.CertPool
	// DialContext, when set, opens connections instead of a plain dialer:
	// where a registry's name leads is then the caller's choice (a test
	// serving a name over TLS from a loopback port).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.RetryDeadline <= 0 {
		o.RetryDeadline = DefaultRetryDeadline
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = DefaultMaxManifestBytes
	}
	return o
}

// Client talks to registries. It is safe for concurrent use, and meant to be
// made once per process: the per-host limits and the token cache only work
// when every worker shares one Client.
type Client struct {
	insecure  insecureSet
	http      *http.Transport
	transport *transport
	base      []remote.Option
	puller    *remote.Puller
	pusher    *remote.Pusher
	// referrers remembers which hosts serve the referrers API.
	referrers referrersHosts
	// content is what is known by digest (content.go).
	content *content
}

// New builds a Client. Nothing is sent until the first call.
func New(opts Options) *Client {
	opts = opts.withDefaults()
	c := &Client{insecure: newInsecureSet(opts.Insecure), content: newContent(opts.Cache, opts.PullCounted)}
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	c.http = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   max(opts.Concurrency, 16),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(opts.Timeout, 10*time.Second),
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	if opts.DialContext != nil {
		c.http.DialContext = opts.DialContext
	}
	if opts.RootCAs != nil {
		c.http.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	}
	c.transport = &transport{
		inner:       c.http,
		insecure:    c.insecure,
		concurrency: opts.Concurrency,
		retries:     opts.Retries,
		retryFor:    opts.RetryDeadline,
		maxWait:     opts.MaxRetryAfter,
		timeout:     opts.Timeout,
		maxManifest: opts.MaxManifestBytes,
		now:         time.Now,
		hosts:       map[string]*hostState{},
	}
	c.base = []remote.Option{
		remote.WithTransport(c.content.counting.watch(c.transport)),
		remote.WithAuthFromKeychain(opts.Keychain),
		// Retries live in our transport, which knows Retry-After; ggcr's
		// would multiply them and ignore the header.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithJobs(opts.Concurrency),
	}
	if opts.UserAgent != "" {
		c.base = append(c.base, remote.WithUserAgent(opts.UserAgent))
	}
	var err error
	if c.puller, err = remote.NewPuller(c.base...); err != nil {
		// Only conflicting auth options fail, and we pass one.
		panic(fmt.Sprintf("registry: building puller: %v", err))
	}
	if c.pusher, err = remote.NewPusher(c.base...); err != nil {
		panic(fmt.Sprintf("registry: building pusher: %v", err))
	}
	return c
}

// Reference parses s ("host/repo:tag" or "host/repo@sha256:...") and marks
// the registry insecure when it may be spoken to over plain HTTP, so that
// go-containerregistry tries http for it at all.
func (c *Client) Reference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("parsing reference %q: %w", s, err)
	}
	if c.insecure.allows(ref.Context().RegistryStr()) {
		if ref, err = name.ParseReference(s, name.Insecure); err != nil {
			return nil, fmt.Errorf("parsing reference %q: %w", s, err)
		}
	}
	return ref, nil
}

// Repository parses s ("host/repo") like Reference does.
func (c *Client) Repository(s string) (name.Repository, error) {
	repo, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("parsing repository %q: %w", s, err)
	}
	if c.insecure.allows(repo.RegistryStr()) {
		if repo, err = name.NewRepository(s, name.Insecure); err != nil {
			return name.Repository{}, fmt.Errorf("parsing repository %q: %w", s, err)
		}
	}
	return repo, nil
}

// Head returns the descriptor of a manifest by HEAD, the cheap probe that
// answers "is this digest still here" without moving the manifest.
func (c *Client) Head(ctx context.Context, ref name.Reference) (*v1.Descriptor, error) {
	desc, err := c.puller.Head(ctx, ref)
	if err != nil {
		return nil, wrap(err, "HEAD manifest %s", ref)
	}
	c.content.held(ref.Context(), desc.Digest.String())
	return desc, nil
}

// Tags lists every tag of repo, following pagination to the end.
func (c *Client) Tags(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := c.puller.List(ctx, repo)
	if err != nil {
		return nil, wrap(err, "listing tags of %s", repo)
	}
	return tags, nil
}

// BlobExists reports whether repo links the blob with the given digest
// ("sha256:..."). A blob present in the registry but not linked to repo is
// absent from repo's point of view, which is exactly what a re-merge needs
// to know before writing a manifest.
func (c *Client) BlobExists(ctx context.Context, repo name.Repository, digest string) (bool, error) {
	ref, err := name.NewDigest(repo.Name() + "@" + digest)
	if err != nil {
		return false, fmt.Errorf("parsing blob digest %q: %w", digest, err)
	}
	ref.Repository = repo // keep repo's own scheme choice
	layer, err := c.puller.Layer(ctx, ref)
	if err != nil {
		return false, wrap(err, "HEAD blob %s", ref)
	}
	ex, ok := layer.(interface{ Exists() (bool, error) })
	if !ok {
		return false, fmt.Errorf("HEAD blob %s: layer type %T cannot check existence", ref, layer)
	}
	found, err := ex.Exists()
	if err != nil {
		return false, wrap(err, "HEAD blob %s", ref)
	}
	return found, nil
}

// RemoteOptions returns the options for go-containerregistry's remote
// functions (remote.Write, remote.WriteLayer, remote.Put, ...) so that
// repair shares this Client's transport, limits, tokens and disabled ggcr
// retries. They include remote.Reuse of the Client's Puller and Pusher;
// note that a reused Pusher ignores per-call options such as
// remote.WithProgress (use BaseOptions for a call that needs them).
func (c *Client) RemoteOptions(ctx context.Context) []remote.Option {
	return append(c.BaseOptions(ctx), remote.Reuse(c.puller), remote.Reuse(c.pusher))
}

// BaseOptions is RemoteOptions without the reuse of the Puller and Pusher:
// same transport, limits, keychain and retry policy, but a fresh token
// exchange per call. For calls that need per-call options to take effect.
func (c *Client) BaseOptions(ctx context.Context) []remote.Option {
	opts := make([]remote.Option, 0, len(c.base)+3)
	opts = append(opts, c.base...)
	return append(opts, remote.WithContext(ctx))
}

// Puller is the shared Puller: one ping and one token per repository.
func (c *Client) Puller() *remote.Puller { return c.puller }

// Pusher is the shared Pusher: one ping and one push token per repository.
func (c *Client) Pusher() *remote.Pusher { return c.pusher }

// Budgets is the latest pull quota each registry host stated (see Budget),
// keyed by host as requests address it (Docker Hub is index.docker.io).
// Hosts that never sent rate-limit headers and never refused for a quota
// are absent.
func (c *Client) Budgets() map[string]Budget { return c.transport.quota.snapshot() }

// Pulls is how many manifest GETs each host answered (not with a 429)
// since the Client was made: the requests Docker Hub counts against its
// pull quota. A caller takes the difference around a piece of work.
func (c *Client) Pulls() map[string]int {
	q := &c.transport.quota
	q.mu.Lock()
	defer q.mu.Unlock()
	return maps.Clone(q.pulls)
}

// BudgetOf is the latest Budget of the registry holding repo ("host/repo"
// as written in a config: docker.io/x/y is index.docker.io's).
func (c *Client) BudgetOf(repo string) (Budget, bool) {
	r, err := c.Repository(repo)
	if err != nil {
		return Budget{}, false
	}
	b, ok := c.Budgets()[strings.ToLower(r.RegistryStr())]
	return b, ok
}

// Close drops idle connections. The Client stays usable.
func (c *Client) Close() { c.http.CloseIdleConnections() }
