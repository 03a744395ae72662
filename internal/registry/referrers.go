package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Referrers lists the manifests whose subject is ref: the OCI 1.1 referrers
// API (GET /v2/<name>/referrers/<digest>), or, on a registry without it,
// the referrers tag schema (the index under the tag sha256-<hex>) that
// writers such as cosign's oci-1-1 mode keep there instead. No referrer at
// all is an empty list, not an error.
func (c *Client) Referrers(ctx context.Context, ref name.Digest) ([]v1.Descriptor, error) {
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
