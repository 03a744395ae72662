package testreg

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/internal/loopreg"
	"github.com/go-skynet/remerge/internal/manifest"
)

// The helpers tests use to look at and shape a registry beyond what the
// demo seeds: they live here, not in loopreg, so that the demo binary
// carries no test-only API.

// PushImage builds a random image for plat and pushes it into repo by
// digest only, with no tag, as the CI build jobs do.
func (r *Registry) PushImage(ctx context.Context, repo string, plat v1.Platform, opt ImageOptions) (Image, error) {
	img, err := loopreg.NewImage(plat, opt)
	if err != nil {
		return Image{}, err
	}
	return r.PutImage(ctx, repo, img)
}

// ManifestExists reports whether ref (a tag or digest) resolves in repo.
// 404 is false with no error; other failures are errors.
func (r *Registry) ManifestExists(ctx context.Context, repo, ref string) (bool, error) {
	return r.exists(ctx, "/v2/"+repo+"/manifests/"+ref, http.Header{"Accept": {loopreg.ManifestAccept}})
}

// BlobExists reports whether repo links the blob.
func (r *Registry) BlobExists(ctx context.Context, repo, digest string) (bool, error) {
	return r.exists(ctx, "/v2/"+repo+"/blobs/"+digest, nil)
}

func (r *Registry) exists(ctx context.Context, path string, hdr http.Header) (bool, error) {
	code, err := r.Call(ctx, http.MethodHead, path, nil, hdr, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	return code == http.StatusOK, nil
}

// Tags lists repo's tags. A repository that does not exist has no tags:
// that is an empty list, not an error.
func (r *Registry) Tags(ctx context.Context, repo string) ([]string, error) {
	resp, err := r.Do(ctx, http.MethodGet, "/v2/"+repo+"/tags/list", nil, nil)
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
	_, err := r.Call(ctx, http.MethodPost, "/v2/"+to+"/blobs/uploads/?"+q.Encode(), nil, nil, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("mounting %s from %s into %s: %w", digest, from, to, err)
	}
	return nil
}

// PublishList writes a manifest list of children, in the order given, into
// repo under each tag (by digest alone when tags is empty) and returns its
// digest. The bytes come from remerge's one list writer (manifest.Merge,
// proven equal to buildx in internal/pipeline) with buildx's defaults but
// argument order kept: pass the children in ascending digest order for the
// list CI publishes. The registry refuses the list unless every child is
// present in repo, as real registries do.
func (r *Registry) PublishList(ctx context.Context, repo string, tags []string, children ...Image) (string, error) {
	cs := make([]manifest.Child, len(children))
	for i, c := range children {
		n := platforms.Normalize(ocispec.Platform{OS: c.Platform.OS, Architecture: c.Platform.Architecture, Variant: c.Platform.Variant})
		cs[i] = manifest.Child{Digest: c.Digest, MediaType: c.MediaType, Raw: c.Raw,
			Platform: ocispec.Platform{OS: n.OS, Architecture: n.Architecture, Variant: n.Variant}}
	}
	raw, mt, d, err := manifest.Merge(cs, manifest.MergeOptions{PreferIndex: true, Order: manifest.OrderMatrix})
	if err != nil {
		return "", err
	}
	refs := tags
	if len(refs) == 0 {
		refs = []string{d}
	}
	for _, ref := range refs {
		if err := r.PutManifest(ctx, repo, ref, raw, mt); err != nil {
			return "", err
		}
	}
	return d, nil
}

// PutManifest puts raw bytes under ref (a tag or digest) as they are: for
// tests that need a manifest no pipeline would write.
func (r *Registry) PutManifest(ctx context.Context, repo, ref string, raw []byte, mediaType string) error {
	_, err := r.Call(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, raw,
		http.Header{"Content-Type": {mediaType}}, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("putting manifest %s:%s: %w", repo, ref, err)
	}
	return nil
}
