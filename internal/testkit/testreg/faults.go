package testreg

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Effect is what a Fault does to a request it hits.
type Effect string

// The effects a FaultProxy can apply.
const (
	// EffectDelay holds the request for Fault.Delay, then forwards it.
	EffectDelay Effect = "delay"
	// EffectThrottle answers 429 with a Retry-After header, as Docker Hub
	// does when rate limiting.
	EffectThrottle Effect = "throttle"
	// EffectStatus answers Fault.Status (default 503) without forwarding.
	EffectStatus Effect = "status"
	// EffectReset drops the connection with a TCP reset, no answer at all.
	EffectReset Effect = "reset"
	// EffectStall never answers; the request ends when the client gives up
	// or the proxy closes.
	EffectStall Effect = "stall"
	// EffectThrottleHTML answers as quay.io does when it throttles: 429
	// with an HTML page (Content-Type text/html) from its front proxy and
	// no Retry-After, so the client has to decide how long to wait. With a
	// Rate, which requests it hits is decided by the seed and the request
	// alone (method, path, and how many times that request came before),
	// not by the order concurrent requests happen to arrive in, so two runs
	// of the same work see the same throttles.
	EffectThrottleHTML Effect = "throttle-html"
	// EffectEndless answers 200 with a manifest content type and a body
	// that does not end (capped at 1 GiB), to test read limits.
	EffectEndless Effect = "endless"
	// EffectLand forwards the request to the registry, which acts on it,
	// then drops the client's connection with a reset instead of the
	// answer: a write that landed although the client saw it fail.
	EffectLand Effect = "land"
	// EffectRelabel forwards the request to the registry and hands back
	// its answer under the Content-Type Fault.ContentType (none when
	// empty), as a proxy that rewrites headers does: the registry's own
	// words under another label.
	EffectRelabel Effect = "relabel"
)

// ThrottlePage is the body of an EffectThrottleHTML answer: the page nginx
// (quay.io's front) serves with a 429.
const ThrottlePage = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n" +
	"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// QuayThrottle is the fault of a registry throttling like quay.io: a
// fraction rate of all requests answered with 429, an HTML page and no
// Retry-After (EffectThrottleHTML).
func QuayThrottle(rate float64) Fault { return Fault{Effect: EffectThrottleHTML, Rate: rate} }

// endlessCap bounds an "endless" body so a broken client cannot make a test
// stream forever.
const endlessCap = 1 << 30

// Match selects the requests a Fault applies to. Empty fields match all, so
// the zero Match hits every request.
type Match struct {
	Methods      []string // e.g. {"PUT"}
	Kinds        []Kind   // e.g. {KindManifest}
	PathContains string   // e.g. a repository name
}

func (m Match) hits(method string, kind Kind, path string) bool {
	if len(m.Methods) > 0 && !slices.ContainsFunc(m.Methods, func(s string) bool { return strings.EqualFold(s, method) }) {
		return false
	}
	if len(m.Kinds) > 0 && !slices.Contains(m.Kinds, kind) {
		return false
	}
	return m.PathContains == "" || strings.Contains(path, m.PathContains)
}

// Fault is one rule of a FaultProxy. Faults are tried in the order added;
// the first that hits decides the request, except EffectDelay, which adds
// its delay and lets later faults decide.
type Fault struct {
	Match  Match
	Effect Effect
	// Status is the code for EffectStatus (500, 502, 503; default 503).
	Status int
	// RetryAfter is sent with EffectThrottle (and with EffectStatus when
	// set), rounded up to whole seconds.
	RetryAfter time.Duration
	// RetryAfterDate sends Retry-After as an HTTP-date, not seconds.
	RetryAfterDate bool
	// Delay is the hold time of EffectDelay.
	Delay time.Duration
	// Times limits the fault to the next N requests it hits (a burst);
	// zero means no limit.
	Times int
	// For limits the fault to a span after it is added; zero means no
	// limit.
	For time.Duration
	// Rate is the probability of hitting a matching request, drawn from the
	// proxy's seeded source; zero (or >= 1) means every one.
	Rate float64
	// Body replaces the plain-text body of EffectThrottle/EffectStatus.
	Body string
	// ContentType is the label EffectRelabel puts on the registry's answer.
	ContentType string
}

// Arrival records one request as it reached the proxy, so a test can check
// that nothing came back before a Retry-After expired.
type Arrival struct {
	At     time.Time
	Method string
	Kind   Kind
	Path   string
	// Effect is the fault applied ("" when forwarded untouched).
	Effect Effect
	// RetryAt is, for a request answered with Retry-After, the earliest time
	// a polite client may come back.
	RetryAt time.Time
}

type rule struct {
	Fault
	left  int       // remaining hits when Times > 0
	until time.Time // zero: forever
}

// FaultProxy forwards to a registry over its own 127.0.0.1 listener and
// injects faults set at run time. It is safe for concurrent use.
type FaultProxy struct {
	upstream  string
	host      string
	srv       *http.Server
	transport *http.Transport
	rec       *recorder
	done      chan struct{}
	closeOnce sync.Once

	// inflight counts running handlers; closed (under mu) stops new ones
	// from joining once Close waits.
	inflight sync.WaitGroup
	closed   bool

	mu       sync.Mutex
	seed     int64
	rng      *rand.Rand
	seen     map[string]int // arrivals per method and path, for keyed rates
	latency  time.Duration
	rules    []*rule
	arrivals []Arrival
	lim      limits // Docker Hub's pull quota, nginx's token buckets
}

// ProxyOption configures NewFaultProxy.
type ProxyOption func(*FaultProxy)

// WithSeed seeds the source behind Fault.Rate so a test is reproducible.
// The default seed is 1.
func WithSeed(seed int64) ProxyOption {
	return func(p *FaultProxy) { p.seed, p.rng = seed, rand.New(rand.NewSource(seed)) }
}

// NewFaultProxy starts a proxy in front of upstream ("host:port").
func NewFaultProxy(upstream string, opts ...ProxyOption) (*FaultProxy, error) {
	target, err := url.Parse("http://" + upstream)
	if err != nil {
		return nil, fmt.Errorf("parsing upstream %q: %w", upstream, err)
	}
	p := &FaultProxy{
		upstream:  upstream,
		rec:       newRecorder(),
		done:      make(chan struct{}),
		seed:      1,
		rng:       rand.New(rand.NewSource(1)),
		seen:      map[string]int{},
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
	}
	for _, o := range opts {
		o(p)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Keep the client's Host so the registry builds upload
			// Locations that lead back through the proxy.
			pr.Out.Host = pr.In.Host
		},
		Transport:     p.transport,
		BufferPool:    copyBuffers{},
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for fault proxy: %w", err)
	}
	p.host = ln.Addr().String()
	p.srv = &http.Server{Handler: p.rec.wrap(p.handler(rp)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// copyBuffers reuses the proxy's 32 KiB copy buffers: a benchmark sends
// thousands of requests through, and a fresh buffer per answer is garbage
// the in-process registries' collector has to chase on the cores the
// client under measurement runs on.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }

// Host is the proxy's "127.0.0.1:port"; point clients here instead of at
// the registry.
func (p *FaultProxy) Host() string { return p.host }

// Repo returns the reference of a repository reached through the proxy.
func (p *FaultProxy) Repo(path string) string { return p.host + "/" + path }

// Upstream is the "host:port" the proxy forwards to.
func (p *FaultProxy) Upstream() string { return p.upstream }

// SetLatency adds a fixed delay to every request from now on.
func (p *FaultProxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// Add installs a fault after those already installed.
func (p *FaultProxy) Add(f Fault) {
	r := &rule{Fault: f, left: f.Times}
	if f.For > 0 {
		r.until = time.Now().Add(f.For)
	}
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
}

// Clear removes every fault and the latency; traffic flows untouched.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	p.rules = nil
	p.latency = 0
	p.mu.Unlock()
}

// Stats returns a snapshot of the traffic through the proxy.
func (p *FaultProxy) Stats() Stats { return p.rec.snapshot() }

// ResetStats zeroes the counters (the peak in flight starts again from the
// requests in flight now) and forgets the arrivals, and with them the
// per-request counts behind EffectThrottleHTML's draws, so a measured run
// after ResetStats draws as a run on a fresh proxy would.
func (p *FaultProxy) ResetStats() {
	p.rec.reset()
	p.mu.Lock()
	p.arrivals = nil
	p.seen = map[string]int{}
	p.mu.Unlock()
}

// Arrivals returns every request seen since start or ResetStats, oldest
// first.
func (p *FaultProxy) Arrivals() []Arrival {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.arrivals)
}

// Close stops the proxy, ends stalled and endless requests, and waits for
// its handlers to return. It is safe to call more than once.
func (p *FaultProxy) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		err = p.srv.Close()
		close(p.done)
		p.inflight.Wait()
		p.transport.CloseIdleConnections()
	})
	if err != nil {
		return fmt.Errorf("closing fault proxy %s: %w", p.host, err)
	}
	return nil
}

// decide picks the faults for one request and records its arrival.
func (p *FaultProxy) decide(r *http.Request) (delay time.Duration, f *Fault, retryAt time.Time) {
	now := time.Now()
	kind := Classify(r.URL.Path)
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Method + " " + r.URL.RequestURI()
	nth := p.seen[key]
	p.seen[key]++
	delay = p.latency
	for _, ru := range p.rules {
		if !ru.Match.hits(r.Method, kind, r.URL.Path) {
			continue
		}
		if (ru.Times > 0 && ru.left <= 0) || (!ru.until.IsZero() && now.After(ru.until)) {
			continue
		}
		if ru.Rate > 0 && ru.Rate < 1 {
			draw := p.rng.Float64()
			if ru.Effect == EffectThrottleHTML {
				draw = keyedDraw(p.seed, key, nth)
			}
			if draw >= ru.Rate {
				continue
			}
		}
		ru.left--
		if ru.Effect == EffectDelay {
			delay += ru.Delay
			continue
		}
		f = &ru.Fault
		break
	}
	a := Arrival{At: now, Method: r.Method, Kind: kind, Path: r.URL.Path}
	if f != nil {
		a.Effect = f.Effect
		if f.RetryAfter > 0 && (f.Effect == EffectThrottle || f.Effect == EffectStatus) {
			secs := (f.RetryAfter + time.Second - 1) / time.Second
			retryAt = now.Add(secs * time.Second)
			if f.RetryAfterDate {
				// An HTTP-date has whole seconds; round up so the
				// header never promises earlier than RetryAt.
				retryAt = retryAt.Truncate(time.Second).Add(time.Second)
			}
			a.RetryAt = retryAt
		}
	}
	p.arrivals = append(p.arrivals, a)
	return delay, f, retryAt
}

func (p *FaultProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			reset(w)
			return
		}
		p.inflight.Add(1)
		p.mu.Unlock()
		defer p.inflight.Done()
		if p.limit(w, r) {
			return // refused by the quota or a token bucket (ratelimit.go)
		}
		delay, f, retryAt := p.decide(r)
		if delay > 0 && !p.wait(r, delay) {
			panic(http.ErrAbortHandler) // no answer, as if the proxy died
		}
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch f.Effect {
		case EffectThrottle:
			p.answer(w, http.StatusTooManyRequests, f, retryAt, "Too Many Requests")
		case EffectThrottleHTML:
			throttleHTML(w, r)
		case EffectStatus:
			code := f.Status
			if code == 0 {
				code = http.StatusServiceUnavailable
			}
			p.answer(w, code, f, retryAt, http.StatusText(code))
		case EffectReset:
			reset(w)
		case EffectStall:
			select {
			case <-r.Context().Done():
			case <-p.done:
				// Returning would send an empty 200; drop the
				// connection instead.
				panic(http.ErrAbortHandler)
			}
		case EffectEndless:
			p.endless(w, r)
		case EffectLand:
			next.ServeHTTP(&discard{h: http.Header{}}, r)
			reset(w)
		case EffectRelabel:
			next.ServeHTTP(&relabel{ResponseWriter: w, contentType: f.ContentType}, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// keyedDraw is a number in [0, 1) fixed by the seed, the request (method
// and URI) and how many times the same request arrived before: the same
// work draws the same numbers however its requests interleave.
func keyedDraw(seed int64, key string, nth int) float64 {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(nth))
	_, _ = h.Write(b[:])
	_, _ = io.WriteString(h, key)
	return float64(binary.LittleEndian.Uint64(h.Sum(nil))>>11) / (1 << 53)
}

// wait sleeps d unless the client or the proxy gives up first.
func (p *FaultProxy) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-p.done:
		return false
	}
}

func (p *FaultProxy) answer(w http.ResponseWriter, code int, f *Fault, retryAt time.Time, def string) {
	if !retryAt.IsZero() {
		if f.RetryAfterDate {
			w.Header().Set("Retry-After", retryAt.UTC().Format(http.TimeFormat))
		} else {
			secs := (f.RetryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.Itoa(int(secs)))
		}
	}
	body := f.Body
	if body == "" {
		body = def
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body+"\n")
}

// discard is a ResponseWriter that throws the registry's answer away, for
// EffectLand.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

// relabel hands the registry's answer on under another Content-Type, for
// EffectRelabel.
type relabel struct {
	http.ResponseWriter
	contentType string
}

func (r *relabel) WriteHeader(code int) {
	if r.contentType == "" {
		r.Header()["Content-Type"] = nil // not even net/http's sniffed one
	} else {
		r.Header().Set("Content-Type", r.contentType)
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController flush the answer as it streams.
func (r *relabel) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// reset closes the client connection with SO_LINGER 0, so the client sees
// "connection reset by peer" rather than a clean EOF.
func reset(w http.ResponseWriter) {
	if f, ok := w.(interface{ finish() }); ok {
		f.finish()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (p *FaultProxy) endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", MediaTypeDockerManifest)
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, `{"schemaVersion":2,"pad":"`); err != nil {
		return
	}
	chunk := []byte(strings.Repeat("a", 32*1024))
	rc := http.NewResponseController(w)
	for sent := 0; sent < endlessCap; sent += len(chunk) {
		select {
		case <-r.Context().Done():
			return
		case <-p.done:
			panic(http.ErrAbortHandler) // cut, not a clean end of body
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
	}
}
