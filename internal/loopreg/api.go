package loopreg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ManifestAccept is every manifest media type the helpers read, so a HEAD
// or GET never falls back to a schema1 conversion.
var ManifestAccept = strings.Join([]string{
	MediaTypeDockerManifest,
	MediaTypeDockerList,
	MediaTypeOCIManifest,
	MediaTypeOCIIndex,
}, ", ")

// Do sends one request to the registry API with the registry's credentials
// (WithCredentials), over the registry's own connections. path starts with
// "/v2/". It is what every helper here, and the tests' own, speak through.
func (r *Registry) Do(ctx context.Context, method, path string, body []byte, hdr http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL()+path, rd)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// Call is Do for requests whose body only matters on failure: it drains and
// closes the body and returns the status, or an error for any status not in
// want.
func (r *Registry) Call(ctx context.Context, method, path string, body []byte, hdr http.Header, want ...int) (int, error) {
	resp, err := r.Do(ctx, method, path, body, hdr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	for _, w := range want {
		if resp.StatusCode == w {
			return resp.StatusCode, nil
		}
	}
	return resp.StatusCode, fmt.Errorf("%s %s%s: %s: %s", method, r.Host, path, resp.Status, strings.TrimSpace(string(msg)))
}

// Reap deletes a manifest by digest from one repository, as quay's per-repo
// garbage collection does to untagged manifests. Blobs stay linked.
func (r *Registry) Reap(ctx context.Context, repo, digest string) error {
	_, err := r.Call(ctx, http.MethodDelete, "/v2/"+repo+"/manifests/"+digest, nil, nil, http.StatusAccepted)
	if err != nil {
		return fmt.Errorf("reaping %s@%s: %w", repo, digest, err)
	}
	return nil
}

// DropBlob deletes one repository's link to a blob; other repos keep theirs.
// It simulates a blob lost from a repo.
func (r *Registry) DropBlob(ctx context.Context, repo, digest string) error {
	_, err := r.Call(ctx, http.MethodDelete, "/v2/"+repo+"/blobs/"+digest, nil, nil, http.StatusAccepted)
	if err != nil {
		return fmt.Errorf("dropping blob %s@%s: %w", repo, digest, err)
	}
	return nil
}

// Resolve returns the digest a tag points to in repo.
func (r *Registry) Resolve(ctx context.Context, repo, tag string) (string, error) {
	resp, err := r.Do(ctx, http.MethodHead, "/v2/"+repo+"/manifests/"+tag, nil, http.Header{"Accept": {ManifestAccept}})
	if err != nil {
		return "", fmt.Errorf("resolving %s:%s: %w", repo, tag, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("resolving %s:%s: %s", repo, tag, resp.Status)
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if d == "" {
		return "", fmt.Errorf("resolving %s:%s: no Docker-Content-Digest header", repo, tag)
	}
	return d, nil
}

// Manifest returns the raw bytes and media type stored under ref in repo.
func (r *Registry) Manifest(ctx context.Context, repo, ref string) ([]byte, string, error) {
	resp, err := r.Do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil, http.Header{"Accept": {ManifestAccept}})
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s@%s: %w", repo, ref, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s@%s: %w", repo, ref, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetching %s@%s: %s: %s", repo, ref, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, resp.Header.Get("Content-Type"), nil
}
