package testreg

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind names what a registry request is about, judged from its path alone.
// Tests assert on kinds ("no blob was uploaded", "one manifest PUT") rather
// than on raw paths, which embed random upload ids.
type Kind string

// The kinds of registry requests, after the distribution API routes.
const (
	KindPing     Kind = "ping"     // GET /v2/
	KindCatalog  Kind = "catalog"  // GET /v2/_catalog
	KindTags     Kind = "tags"     // GET /v2/<name>/tags/list
	KindManifest Kind = "manifest" // /v2/<name>/manifests/<ref>
	KindBlob     Kind = "blob"     // /v2/<name>/blobs/<digest>
	KindUpload   Kind = "upload"   // /v2/<name>/blobs/uploads/...
	KindToken    Kind = "token"    // a token endpoint outside /v2/
	KindOther    Kind = "other"    // anything else
)

// Classify returns the kind of a request path. It looks at the last path
// elements only, so repository names with slashes classify correctly.
func Classify(path string) Kind {
	switch {
	case path == "/v2/" || path == "/v2":
		return KindPing
	case path == "/v2/_catalog":
		return KindCatalog
	case !strings.HasPrefix(path, "/v2/"):
		if strings.Contains(path, "token") {
			return KindToken
		}
		return KindOther
	case strings.HasSuffix(path, "/tags/list"):
		return KindTags
	case strings.Contains(path, "/manifests/"):
		return KindManifest
	case strings.Contains(path, "/blobs/uploads"):
		return KindUpload
	case strings.Contains(path, "/blobs/"):
		return KindBlob
	}
	return KindOther
}

type statKey struct {
	method string
	kind   Kind
}

// counter holds the numbers kept for one (method, kind) pair.
type counter struct {
	requests   int
	uploaded   int64
	downloaded int64
}

// Stats is a snapshot of the traffic a registry or proxy has seen. It is a
// copy: later traffic does not change it, so a test can take one before and
// one after an action and compare.
type Stats struct {
	counts   map[statKey]counter
	statuses map[int]int
	peak     int
	steps    []step
}

// Requests counts requests with the given method and kind; an empty method
// or kind matches any, so Requests("", KindBlob) counts every blob request.
func (s Stats) Requests(method string, kind Kind) int {
	n := 0
	for k, c := range s.counts {
		if match(k, method, kind) {
			n += c.requests
		}
	}
	return n
}

// Total counts every request seen.
func (s Stats) Total() int { return s.Requests("", "") }

// Uploaded counts request body bytes (what clients sent) for the given
// method and kind; empty matches any.
func (s Stats) Uploaded(method string, kind Kind) int64 {
	var n int64
	for k, c := range s.counts {
		if match(k, method, kind) {
			n += c.uploaded
		}
	}
	return n
}

// Downloaded counts response body bytes (what clients received) for the
// given method and kind; empty matches any.
func (s Stats) Downloaded(method string, kind Kind) int64 {
	var n int64
	for k, c := range s.counts {
		if match(k, method, kind) {
			n += c.downloaded
		}
	}
	return n
}

// UploadBytes is every request body byte received: the cost of a copy.
func (s Stats) UploadBytes() int64 { return s.Uploaded("", "") }

// DownloadBytes is every response body byte sent.
func (s Stats) DownloadBytes() int64 { return s.Downloaded("", "") }

// Status counts responses that carried the given status code, so a test can
// check how many 404s or 429s a run provoked.
func (s Stats) Status(code int) int { return s.statuses[code] }

// PeakInFlight is the most requests this server was answering at once
// since start or the last reset: the registry side of a client's
// concurrency limit. A request counts from its arrival until the last byte
// of its answer is handed to the connection (for HEAD and empty answers,
// until its header is; for an answer of unknown length, until the handler
// returns), so a client that gives its slot back when the headers arrive,
// while the body still streams, shows up here.
func (s Stats) PeakInFlight() int { return s.peak }

// Occupancy is how busy a server was against a client's limit, from the
// first request's arrival to the last moment nothing was in flight.
type Occupancy struct {
	// Start is the first arrival, End the last moment nothing was in
	// flight; Span is between the two.
	Start, End time.Time
	Span       time.Duration
	// Mean is the mean number of requests in flight over Span.
	Mean float64
	// PerRequest is the mean time a request spent in flight.
	PerRequest time.Duration
	// Full is the time with limit or more requests in flight, Idle the
	// time with none.
	Full, Idle time.Duration
	// Ramp is from the first arrival to the first moment at the limit
	// (all of Span when it was never reached); Tail is from the last
	// moment at the limit to the end of Span.
	Ramp, Tail time.Duration
}

// Occupancy measures the server's in-flight count against limit.
func (s Stats) Occupancy(limit int) Occupancy {
	var o Occupancy
	if len(s.steps) == 0 {
		return o
	}
	start, end := s.steps[0].at, s.steps[0].at
	for _, st := range s.steps {
		if st.n == 0 {
			end = st.at
		}
	}
	o.Start, o.End, o.Span = start, end, end.Sub(start)
	var area time.Duration
	entered := 0
	var firstFull, lastFull time.Time
	for i, st := range s.steps {
		if i > 0 && st.n > s.steps[i-1].n {
			entered++
		}
		if i == 0 {
			entered = st.n
		}
		if i+1 == len(s.steps) || !st.at.Before(end) {
			break
		}
		d := s.steps[i+1].at.Sub(st.at)
		area += time.Duration(st.n) * d
		switch {
		case st.n >= limit:
			o.Full += d
			if firstFull.IsZero() {
				firstFull = st.at
			}
			lastFull = s.steps[i+1].at
		case st.n == 0:
			o.Idle += d
		}
	}
	if o.Span > 0 {
		o.Mean = float64(area) / float64(o.Span)
	}
	if entered > 0 {
		o.PerRequest = area / time.Duration(entered)
	}
	o.Ramp = o.Span
	if !firstFull.IsZero() {
		o.Ramp, o.Tail = firstFull.Sub(start), end.Sub(lastFull)
	}
	return o
}

// String renders the snapshot as a table, one line per (method, kind), for
// test failure messages and the demo's log.
func (s Stats) String() string {
	keys := make([]statKey, 0, len(s.counts))
	for k := range s.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].method < keys[j].method
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %-9s %8s %12s %12s\n", "METHOD", "KIND", "REQUESTS", "UPLOADED", "DOWNLOADED")
	for _, k := range keys {
		c := s.counts[k]
		fmt.Fprintf(&b, "%-7s %-9s %8d %12d %12d\n", k.method, k.kind, c.requests, c.uploaded, c.downloaded)
	}
	fmt.Fprintf(&b, "%-7s %-9s %8d %12d %12d\n", "TOTAL", "", s.Total(), s.UploadBytes(), s.DownloadBytes())
	return b.String()
}

func match(k statKey, method string, kind Kind) bool {
	return (method == "" || strings.EqualFold(k.method, method)) && (kind == "" || k.kind == kind)
}

// recorder counts traffic as it flows. Counts move when the request arrives
// and as bytes pass, not when the handler returns, so a client that has its
// answer already sees it counted.
type recorder struct {
	mu       sync.Mutex
	counts   map[statKey]counter
	statuses map[int]int
	inflight int
	peak     int
	// steps logs every change of inflight, so a benchmark can see when
	// the server sat below a client's limit.
	steps []step
}

// step is the number of requests in flight from at on.
type step struct {
	at time.Time
	n  int
}

func newRecorder() *recorder {
	return &recorder{counts: map[statKey]counter{}, statuses: map[int]int{}}
}

func (r *recorder) add(k statKey, requests int, up, down int64) {
	r.mu.Lock()
	c := r.counts[k]
	c.requests += requests
	c.uploaded += up
	c.downloaded += down
	r.counts[k] = c
	r.mu.Unlock()
}

func (r *recorder) status(code int) {
	r.mu.Lock()
	r.statuses[code]++
	r.mu.Unlock()
}

func (r *recorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	// steps is append-only until reset replaces it, so sharing the
	// backing array up to its length is safe.
	s := Stats{counts: make(map[statKey]counter, len(r.counts)), statuses: make(map[int]int, len(r.statuses)), peak: r.peak, steps: r.steps[:len(r.steps):len(r.steps)]}
	for k, c := range r.counts {
		s.counts[k] = c
	}
	for k, c := range r.statuses {
		s.statuses[k] = c
	}
	return s
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.counts = map[statKey]counter{}
	r.statuses = map[int]int{}
	r.peak = r.inflight
	r.steps = nil
	if r.inflight > 0 {
		// The requests still in flight count from the reset on.
		r.steps = []step{{time.Now(), r.inflight}}
	}
	r.mu.Unlock()
}

// enter counts a request in flight and returns the function that counts it
// out; calling that more than once counts it out once.
func (r *recorder) enter() func() {
	r.mu.Lock()
	r.inflight++
	r.peak = max(r.peak, r.inflight)
	r.steps = append(r.steps, step{time.Now(), r.inflight})
	r.mu.Unlock()
	return sync.OnceFunc(func() {
		r.mu.Lock()
		r.inflight--
		r.steps = append(r.steps, step{time.Now(), r.inflight})
		r.mu.Unlock()
	})
}

// wrap returns next behind a counting layer.
func (r *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		k := statKey{method: req.Method, kind: Classify(req.URL.Path)}
		r.add(k, 1, 0, 0)
		leave := r.enter()
		defer leave()
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = &countingBody{ReadCloser: req.Body, rec: r, key: k}
		}
		next.ServeHTTP(&countingWriter{ResponseWriter: w, rec: r, key: k, leave: leave, left: -1}, req)
	})
}

type countingBody struct {
	io.ReadCloser
	rec *recorder
	key statKey
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.rec.add(b.key, 0, int64(n), 0)
	}
	return n, err
}

// countingWriter counts response bytes and status codes. It unwraps to the
// server's writer so http.ResponseController can flush and hijack.
//
// It also counts the request out of flight just before the client can have
// its whole answer: before the header of an answer without a body, before
// the write that completes a body of known length. The client cannot
// finish a request earlier than that, so a peak above the client's limit
// is the client's doing, never the counter's.
type countingWriter struct {
	http.ResponseWriter
	rec         *recorder
	key         statKey
	wroteHeader bool
	leave       func()
	left        int64 // body bytes still to write; -1: unknown length
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.wroteHeader = true
		w.rec.status(code)
		w.left = -1
		if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
			w.left = n
		}
		if w.key.method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified || w.left == 0 {
			w.leave()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.key.method != http.MethodHead { // the server drops HEAD bodies
		w.rec.add(w.key, 0, 0, int64(len(p)))
	}
	if w.left >= 0 {
		if w.left -= int64(len(p)); w.left <= 0 {
			w.leave()
		}
	}
	return w.ResponseWriter.Write(p)
}

// finish counts the request out of flight now: the proxy is about to cut
// the connection, and the client may see that before the handler returns.
func (w *countingWriter) finish() { w.leave() }

// Flush lets streaming handlers (the proxy, endless bodies) push bytes out.
func (w *countingWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap exposes the server's writer to http.ResponseController.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
