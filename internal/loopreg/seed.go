package loopreg

import (
	"context"
	"fmt"
	"net/http"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	godigest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types the seeding helpers write and read.
const (
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// Image describes a single-platform image pushed into a registry: what a
// test needs to seed lists, reap it or assert on it.
type Image struct {
	Digest    string      // manifest digest, "sha256:..."
	Size      int64       // manifest size in bytes
	MediaType string      // manifest media type
	Raw       []byte      // manifest bytes exactly as stored
	Config    string      // config blob digest
	Layers    []string    // layer blob digests, in order
	Platform  v1.Platform // os/architecture/variant from the config
}

// ImageOptions shapes a random image. Zero values mean 2 layers of 1 KiB and
// a random seed.
type ImageOptions struct {
	Layers    int
	LayerSize int64
	// Seed makes the layers reproducible: equal seeds and platforms give
	// equal digests. Zero draws a fresh random image.
	Seed int64
}

// NewImage builds a random single-platform image with Docker v2 schema 2
// media types whose config names plat, as a CI build of one leg would. Push
// the same value with PutImage into several repos and registries to get the
// same digest everywhere.
func NewImage(plat v1.Platform, opt ImageOptions) (v1.Image, error) {
	if opt.Layers <= 0 {
		opt.Layers = 2
	}
	if opt.LayerSize <= 0 {
		opt.LayerSize = 1024
	}
	img, err := randomImage(opt)
	if err != nil {
		return nil, fmt.Errorf("generating image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading generated config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = plat.OS
	cf.Architecture = plat.Architecture
	cf.Variant = plat.Variant
	cf.OSVersion = plat.OSVersion
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting platform %s: %w", platforms.Format(ociPlatform(plat)), err)
	}
	return img, nil
}

// PutImage pushes img (blobs, then manifest) into repo by digest only.
func (r *Registry) PutImage(ctx context.Context, repo string, img v1.Image) (Image, error) {
	info, err := describe(img)
	if err != nil {
		return Image{}, err
	}
	ref, err := name.NewDigest(r.Repo(repo) + "@" + info.Digest)
	if err != nil {
		return Image{}, fmt.Errorf("naming %s: %w", repo, err)
	}
	err = remote.Write(ref, img,
		remote.WithContext(ctx),
		remote.WithAuth(r.Authenticator()),
		remote.WithTransport(r.transport))
	if err != nil {
		return Image{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return info, nil
}

func describe(img v1.Image) (Image, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return Image{}, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return Image{}, fmt.Errorf("parsing manifest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Image{}, fmt.Errorf("reading config: %w", err)
	}
	info := Image{
		Digest:    godigest.FromBytes(raw).String(),
		Size:      int64(len(raw)),
		MediaType: string(m.MediaType),
		Raw:       raw,
		Config:    m.Config.Digest.String(),
		Platform:  v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion},
	}
	for _, l := range m.Layers {
		info.Layers = append(info.Layers, l.Digest.String())
	}
	return info, nil
}

// Tag points tag at a manifest already in repo, by copying its exact bytes.
// This is how a keepalive anchor is made.
func (r *Registry) Tag(ctx context.Context, repo, tag, digest string) error {
	raw, mt, err := r.Manifest(ctx, repo, digest)
	if err != nil {
		return fmt.Errorf("tagging %s:%s: %w", repo, tag, err)
	}
	return r.putManifest(ctx, repo, tag, raw, mt)
}

// PublishSingle publishes a single-platform image under tags, as current
// buildx does for a single source. img must already be in repo.
func (r *Registry) PublishSingle(ctx context.Context, repo string, tags []string, img Image) error {
	for _, t := range tags {
		if err := r.putManifest(ctx, repo, t, img.Raw, img.MediaType); err != nil {
			return err
		}
	}
	return nil
}

func (r *Registry) putManifest(ctx context.Context, repo, ref string, raw []byte, mt string) error {
	_, err := r.Call(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, raw,
		http.Header{"Content-Type": {mt}}, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("putting manifest %s:%s: %w", repo, ref, err)
	}
	return nil
}

func ociPlatform(p v1.Platform) ocispec.Platform {
	n := platforms.Normalize(ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
	return ocispec.Platform{OS: n.OS, Architecture: n.Architecture, Variant: n.Variant}
}
