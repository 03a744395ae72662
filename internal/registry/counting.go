package registry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// This file is the one place that knows which registries count manifest
// GETs as pulls, and so the one place that chooses how a manifest whose
// bytes are wanted is asked for: a HEAD first, or one GET.
//
// Docker Hub counts every manifest GET against a pull quota; HEADs are
// free. There a HEAD learns the digest and the bytes are read from memory,
// the disk cache or a registry that does not count (content.go), so a GET
// is the last resort. Elsewhere (quay.io, ghcr.io, distribution) nothing
// is counted and a HEAD followed by a GET is two requests where the GET
// alone answers both.

// countState is what a host is known to do with manifest GETs.
type countState int

const (
	countUnknown countState = iota // no manifest answer seen yet
	countFree                      // answered a manifest without rate-limit headers
	countPulls                     // Docker Hub, named in Options, or announced a limit
)

// pullCounting is what each host is known to do with manifest GETs.
type pullCounting struct {
	mu    sync.Mutex
	state map[string]countState
	// learning holds, per host not known yet, a channel closed when it is
	// learnt or when the request sent to learn it has been answered.
	learning map[string]chan struct{}
}

func newPullCounting(named []string) *pullCounting {
	pc := &pullCounting{state: map[string]countState{}, learning: map[string]chan struct{}{}}
	for _, h := range named {
		pc.state[strings.ToLower(h)] = countPulls
	}
	return pc
}

// of is host's state; Docker Hub's names always count.
func (pc *pullCounting) of(host string) countState {
	if isDockerHub(host) {
		return countPulls
	}
	return pc.state[host]
}

// counts says whether host counts manifest GETs as pulls: Docker Hub, a
// host named in Options.PullCounted, or one whose answers carried Docker
// Hub's rate-limit headers.
func (pc *pullCounting) counts(host string) bool {
	host = strings.ToLower(host)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.of(host) == countPulls
}

// learn records what an answer says of its host. Rate-limit headers
// (Docker Hub puts them on every manifest answer, HEADs included) mark it
// as counting, for good. A manifest HEAD or GET answered 2xx without them,
// by a host that is not Docker Hub, marks it free until it says otherwise.
// Other answers (pings, tokens, pushes, 404s) tell nothing.
func (pc *pullCounting) learn(req *http.Request, resp *http.Response) {
	host := strings.ToLower(req.URL.Host)
	_, limited := readBudget(host, resp.Header, time.Time{})
	pc.mu.Lock()
	defer pc.mu.Unlock()
	switch {
	case limited:
		pc.state[host] = countPulls
	case pc.of(host) == countUnknown && resp.StatusCode/100 == 2 && reads(req) && pathClass(req.URL.Path) == "manifests":
		pc.state[host] = countFree
	default:
		return
	}
	if ch, ok := pc.learning[host]; ok {
		close(ch)
		delete(pc.learning, host)
	}
}

// reads reports whether req reads (HEAD or GET): the answers a pull
// quota is stated on.
func reads(req *http.Request) bool {
	return req.Method == http.MethodHead || req.Method == http.MethodGet
}

// watch wraps the transport so that every answer teaches learn.
func (pc *pullCounting) watch(inner http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := inner.RoundTrip(req)
		if err == nil {
			pc.learn(req, resp)
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// headFirst decides how to ask host for a manifest whose bytes are wanted
// whatever it turns out to be (a tag read for its content): a HEAD first
// on a host that counts pulls, one GET on a host known not to. A host not
// known yet gets a HEAD, which teaches what it is; while one such request
// is out, other callers wait for its answer rather than guess, since a
// run asks for all of its tags at once, before any answer. answered must
// be called once the HEAD has been answered (it lets the next caller try
// when the answer taught nothing, a 404 say); it does nothing after a GET.
func (pc *pullCounting) headFirst(ctx context.Context, host string) (head bool, answered func()) {
	host = strings.ToLower(host)
	for {
		pc.mu.Lock()
		switch pc.of(host) {
		case countPulls:
			pc.mu.Unlock()
			return true, func() {}
		case countFree:
			pc.mu.Unlock()
			return false, func() {}
		}
		ch, out := pc.learning[host]
		if !out {
			ch = make(chan struct{})
			pc.learning[host] = ch
			pc.mu.Unlock()
			return true, func() { pc.answered(host, ch) }
		}
		pc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return true, func() {} // the HEAD fails at once on ctx
		}
	}
}

// answered ends the learning request ch for host, if learn has not.
func (pc *pullCounting) answered(host string, ch chan struct{}) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.learning[host] == ch {
		close(ch)
		delete(pc.learning, host)
	}
}
