package loopreg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// manifestAccept is every manifest media type the helpers read, so a HEAD
// or GET never falls back to a schema1 conversion.
var manifestAccept = strings.Join([]string{
	MediaTypeDockerManifest,
	MediaTypeDockerList,
	MediaTypeOCIManifest,
	MediaTypeOCIIndex,
}, ", ")

// do sends one request to the registry API with the registry's credentials.
// path starts with "/v2/".
func (r *Registry) do(ctx context.Context, method, path string, body []byte, hdr http.Header) (*http.Response, error) {
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

// call is do for requests whose body only matters on failure: it drains and
// closes the body and returns the status, or an error for any status not in
// want.
func (r *Registry) call(ctx context.Context, method, path string, body []byte, hdr http.Header, want ...int) (int, error) {
	resp, err := r.do(ctx, method, path, body, hdr)
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
	_, err := r.call(ctx, http.MethodDelete, "/v2/"+repo+"/manifests/"+digest, nil, nil, http.StatusAccepted)
	if err != nil {
		return fmt.Errorf("reaping %s@%s: %w", repo, digest, err)
	}
	return nil
}

// DropBlob deletes one repository's link to a blob; other repos keep theirs.
// It simulates a blob lost from a repo.
func (r *Registry) DropBlob(ctx context.Context, repo, digest string) error {
	_, err := r.call(ctx, http.MethodDelete, "/v2/"+repo+"/blobs/"+digest, nil, nil, http.StatusAccepted)
	if err != nil {
		return fmt.Errorf("dropping blob %s@%s: %w", repo, digest, err)
	}
	return nil
}

// ManifestExists reports whether ref (a tag or digest) resolves in repo.
// 404 is false with no error; other failures are errors.
func (r *Registry) ManifestExists(ctx context.Context, repo, ref string) (bool, error) {
	return r.exists(ctx, "/v2/"+repo+"/manifests/"+ref, http.Header{"Accept": {manifestAccept}})
}

// BlobExists reports whether repo links the blob.
func (r *Registry) BlobExists(ctx context.Context, repo, digest string) (bool, error) {
	return r.exists(ctx, "/v2/"+repo+"/blobs/"+digest, nil)
}

func (r *Registry) exists(ctx context.Context, path string, hdr http.Header) (bool, error) {
	code, err := r.call(ctx, http.MethodHead, path, nil, hdr, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	return code == http.StatusOK, nil
}

// Resolve returns the digest a tag points to in repo.
func (r *Registry) Resolve(ctx context.Context, repo, tag string) (string, error) {
	resp, err := r.do(ctx, http.MethodHead, "/v2/"+repo+"/manifests/"+tag, nil, http.Header{"Accept": {manifestAccept}})
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
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil, http.Header{"Accept": {manifestAccept}})
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

// Tags lists repo's tags. A repository that does not exist has no tags:
// that is an empty list, not an error.
func (r *Registry) Tags(ctx context.Context, repo string) ([]string, error) {
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+repo+"/tags/list", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing tags of %s: %s", repo, resp.Status)
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("decoding tags of %s: %w", repo, err)
	}
	return list.Tags, nil
}

// Mount asks the registry to link a blob of repo from into repo to without
// moving bytes (POST .../blobs/uploads/?mount=&from=). It fails unless the
// registry answers 201 Created, i.e. unless the mount really happened.
func (r *Registry) Mount(ctx context.Context, from, to, digest string) error {
	q := url.Values{"mount": {digest}, "from": {from}}
	_, err := r.call(ctx, http.MethodPost, "/v2/"+to+"/blobs/uploads/?"+q.Encode(), nil, nil, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("mounting %s from %s into %s: %w", digest, from, to, err)
	}
	return nil
}

// Snapshot hashes every file of the registry's storage (path -> sha256
// hex; directories map to "dir"), so a test can show that a dry run wrote
// nothing. In-progress upload state (_uploads) is left out.
func (r *Registry) Snapshot() (map[string]string, error) {
	out := map[string]string{}
	for p, sum := range r.driver.hashes() {
		if strings.Contains(p, "/_uploads/") {
			continue
		}
		rel := strings.TrimPrefix(p, "/")
		out[rel] = sum
		for dir := path.Dir(rel); dir != "." && dir != "/"; dir = path.Dir(dir) {
			out[dir] = "dir"
		}
	}
	return out, nil
}

// Checkpoint records the registry's whole storage and returns a function
// that puts it back, so a benchmark can measure a destructive run (a
// repair) twice on the same state without seeding twice. Restore only
// while no request is in flight.
func (r *Registry) Checkpoint() (restore func()) {
	files, children := r.driver.checkpoint()
	return func() { r.driver.restore(files, children) }
}
