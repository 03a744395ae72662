package pipeline

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// Writer does what Buildx does with remerge's own list writer
// (manifest.Merge), through go-containerregistry: remote.Write copies each
// source image (cross-repo mounts on one registry, bytes across
// registries), then the list is put under each tag.
type Writer struct {
	// Options for every request (auth, transport, context is added).
	Options []remote.Option
	// Merge is how the merge is written; the zero value is buildx's
	// --prefer-index=false with argument order, so set it
	// (manifest.DefaultMergeOptions) unless that is what you mean.
	Merge manifest.MergeOptions
}

func (w Writer) opts(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, w.Options...)
}

// children reads each source's manifest and platform, in argument order,
// with the images Create copies.
func (w Writer) children(ctx context.Context, sources []string) ([]manifest.Child, []v1.Image, error) {
	var (
		out  []manifest.Child
		imgs []v1.Image
	)
	for _, s := range sources {
		ref, err := name.NewDigest(s)
		if err != nil {
			return nil, nil, fmt.Errorf("source %q: %w", s, err)
		}
		desc, err := remote.Get(ref, w.opts(ctx)...)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", s, err)
		}
		img, err := desc.Image()
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", s, err)
		}
		cfg, err := img.RawConfigFile()
		if err != nil {
			return nil, nil, fmt.Errorf("reading config of %s: %w", s, err)
		}
		if len(cfg) > manifest.MaxConfigBytes {
			return nil, nil, fmt.Errorf("config of %s is larger than %d bytes", s, manifest.MaxConfigBytes)
		}
		plat, err := manifest.ConfigPlatform(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s, err)
		}
		out = append(out, manifest.Child{Digest: desc.Digest.String(), MediaType: string(desc.MediaType), Raw: desc.Manifest, Platform: plat})
		imgs = append(imgs, img)
	}
	return out, imgs, nil
}

// DryRun returns the bytes Create would publish.
func (w Writer) DryRun(ctx context.Context, sources []string) ([]byte, error) {
	children, _, err := w.children(ctx, sources)
	if err != nil {
		return nil, err
	}
	raw, _, _, err := manifest.Merge(children, w.Merge)
	return raw, err
}

// Create copies every source into each tag's repository, then puts the
// merged list under each tag.
func (w Writer) Create(ctx context.Context, tags []string, sources []string) error {
	children, imgs, err := w.children(ctx, sources)
	if err != nil {
		return err
	}
	raw, mt, _, err := manifest.Merge(children, w.Merge)
	if err != nil {
		return err
	}
	copied := map[string]bool{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("tag %q: %w", t, err)
		}
		repo := tag.Context()
		if !copied[repo.String()] {
			for i, img := range imgs {
				if err := remote.Write(repo.Digest(children[i].Digest), img, w.opts(ctx)...); err != nil {
					return fmt.Errorf("copying %s into %s: %w", sources[i], repo, err)
				}
			}
			copied[repo.String()] = true
		}
		if err := remote.Put(tag, registry.RawManifest{Raw: raw, Type: mt}, w.opts(ctx)...); err != nil {
			return fmt.Errorf("putting %s: %w", tag, err)
		}
	}
	return nil
}
