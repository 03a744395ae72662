package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Referrers lists the manifests whose subject is ref: the OCI 1.1 referrers
// API (GET /v2/<name>/referrers/<digest>), or, on a registry without it,
// the referrers tag schema (the index under the tag sha256-<hex>) that
// writers such as cosign's oci-1-1 mode keep there instead. No referrer at
// all is an empty list, not an error.
//
// Whether a host serves the API is learnt from its first definite answer
// and remembered for the Client's life: a host without it is then asked
// for the tag alone, one request per lookup instead of two. Only one
// lookup per host probes at a time; the others wait for its answer. An
// answer that cannot tell (5xx, 429, a network failure) is not remembered.
func (c *Client) Referrers(ctx context.Context, ref name.Digest) ([]v1.Descriptor, error) {
	host := ref.Context().RegistryStr()
	for {
		support, probing := c.referrers.begin(host)
		switch {
		case support == apiUnsupported:
			return c.referrersTag(ctx, ref)
		case support == apiSupported:
			return c.referrersAPI(ctx, ref, nil)
		case probing != nil:
			select {
			case <-probing:
				continue
			case <-ctx.Done():
				return nil, wrap(ctx.Err(), "listing referrers of %s", ref)
			}
		}
		var seen referrersAnswer
		descs, err := c.referrersAPI(ctx, ref, &seen)
		support = seen.support()
		c.referrers.end(host, support)
		if support == apiUnsupported && err != nil {
			// An answer go-containerregistry does not fall back on (405).
			return c.referrersTag(ctx, ref)
		}
		return descs, err
	}
}

// referrersAPI asks go-containerregistry's shared Puller, which falls back
// on the tag schema itself when the API is missing. seen, when not nil,
// receives the API endpoint's answer.
func (c *Client) referrersAPI(ctx context.Context, ref name.Digest, seen *referrersAnswer) ([]v1.Descriptor, error) {
	if seen != nil {
		ctx = context.WithValue(ctx, referrersWatch{}, &referrersWatcher{path: "/referrers/" + ref.DigestStr(), seen: seen})
	}
	idx, err := remote.Referrers(ref, c.RemoteOptions(ctx)...)
	if err != nil {
		return nil, wrap(err, "listing referrers of %s", ref)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, wrap(err, "reading referrers of %s", ref)
	}
	return im.Manifests, nil
}

// referrersTag reads the referrers tag sha256-<hex> through the Client's
// Manifest: absent is no referrer.
func (c *Client) referrersTag(ctx context.Context, ref name.Digest) ([]v1.Descriptor, error) {
	tag := ref.Context().Tag(strings.Replace(ref.DigestStr(), ":", "-", 1))
	raw, _, err := c.Manifest(ctx, tag)
	if err != nil {
		if cl, _ := Classify(err); cl == NotFound {
			return nil, nil
		}
		return nil, wrap(err, "listing referrers of %s", ref)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, wrap(err, "reading referrers of %s from %s", ref, tag)
	}
	return im.Manifests, nil
}

// apiSupport is what is known of a host's referrers API.
type apiSupport int

const (
	apiUnknown apiSupport = iota
	apiSupported
	apiUnsupported
)

// referrersHosts remembers, per registry host, whether it serves the
// referrers API, and which lookup is finding out.
type referrersHosts struct {
	mu    sync.Mutex
	hosts map[string]*referrersHost
}

type referrersHost struct {
	support apiSupport
	probing chan struct{} // closed when the probe in flight ends
}

// begin returns the host's known support; when unknown, a channel to wait
// on if another lookup is probing, or nil: the caller probes, and must
// call end.
func (r *referrersHosts) begin(host string) (apiSupport, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = map[string]*referrersHost{}
	}
	h := r.hosts[host]
	if h == nil {
		h = &referrersHost{}
		r.hosts[host] = h
	}
	if h.support != apiUnknown || h.probing != nil {
		return h.support, h.probing
	}
	h.probing = make(chan struct{})
	return apiUnknown, nil
}

// end records a probe's finding (apiUnknown when it could not tell) and
// wakes the lookups that waited for it.
func (r *referrersHosts) end(host string, s apiSupport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hosts[host]
	h.support = s
	close(h.probing)
	h.probing = nil
}

// referrersAnswer is the referrers endpoint's final answer to a probe, as
// the transport saw it: after retries, before go-containerregistry's
// fallback.
type referrersAnswer struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        []byte // an error answer's body
}

// support judges the answer. A 200 with an OCI index is the API. What
// distribution and go-containerregistry's fallback take for "no API" is
// remembered as such: 400, 405, 406, and a 404 that is neither an index
// nor a missing repository (a registry with the API may answer
// NAME_UNKNOWN for one). Anything else (no answer, 5xx, 429, 401, a 200
// that is not an index) cannot tell.
func (a *referrersAnswer) support() apiSupport {
	a.mu.Lock()
	defer a.mu.Unlock()
	ct := strings.TrimSpace(strings.Split(a.contentType, ";")[0])
	switch a.status {
	case http.StatusOK:
		if ct == string(types.OCIImageIndex) {
			return apiSupported
		}
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotAcceptable:
		return apiUnsupported
	case http.StatusNotFound:
		if ct == string(types.OCIImageIndex) || errorCode(a.body, "NAME_UNKNOWN") {
			return apiUnknown
		}
		return apiUnsupported
	}
	return apiUnknown
}

// errorCode reports whether an error body in the distribution format
// carries code.
func errorCode(body []byte, code string) bool {
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

// referrersWatch is the context key under which a probe asks the transport
// for the referrers endpoint's answer.
type referrersWatch struct{}

type referrersWatcher struct {
	path string // "/referrers/<digest>", the end of the endpoint's path
	seen *referrersAnswer
}

// watchReferrers records resp in the probe's answer when req is the
// referrers request the probe watches. An error answer's body, already
// read into memory by the transport, is copied and put back.
func watchReferrers(req *http.Request, resp *http.Response) {
	w, _ := req.Context().Value(referrersWatch{}).(*referrersWatcher)
	if w == nil || resp == nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, w.path) {
		return
	}
	a := w.seen
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.contentType, a.body = resp.StatusCode, resp.Header.Get("Content-Type"), nil
	if resp.StatusCode >= http.StatusBadRequest && resp.Body != nil {
		a.body, _ = readBack(resp)
	}
}
