package inspect

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/mod/semver"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// This file holds what inspect and repair both ask of a published image
// beyond its manifest: what release it was built as (its labels), and, when
// the labels cannot tell, the target's tag listing, fetched at most once
// per repo and run.

// ReadProvenance reads the metadata-action labels of the image m names in
// repo: its own config, or for a list its first child's config. Costs at
// most one blob GET (plus one manifest GET for a list), none when the
// client already knows those digests' bytes: labels are read by digest,
// whichever repo they came from.
func ReadProvenance(ctx context.Context, c *registry.Client, repo name.Repository, m manifest.Manifest) (manifest.Provenance, error) {
	if m.IsList() {
		if len(m.Entries) == 0 {
			return manifest.Provenance{}, fmt.Errorf("list %s names no child: no image to read labels from", short(m.Digest))
		}
		child := m.Entries[0].Digest
		raw, err := c.ManifestBytes(ctx, repo.Digest(child))
		if err != nil {
			return manifest.Provenance{}, err
		}
		if m, err = manifest.Parse(raw, m.Entries[0].MediaType, child); err != nil {
			return manifest.Provenance{}, err
		}
		if m.IsList() {
			return manifest.Provenance{}, fmt.Errorf("child %s is itself a list", short(child))
		}
	}
	cfg, err := ReadConfig(ctx, c, repo, m.Config.Digest)
	if err != nil {
		return manifest.Provenance{}, err
	}
	return manifest.ConfigProvenance(cfg)
}

// ReadConfig reads a small blob (an image config) whole, bounded, and
// checked against its digest; from the client's cache when it holds it.
func ReadConfig(ctx context.Context, c *registry.Client, repo name.Repository, dgst string) ([]byte, error) {
	b, err := c.SmallBlob(ctx, repo, dgst, manifest.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching config %s from %s: %w", dgst, repo, err)
	}
	return b, nil
}

// LabelOrder compares the release an image's labels name with rel: +1 when
// the image is of a newer release, 0 the same, -1 older. ok is false when
// the labels cannot tell (absent, not a semver release of this backend).
func (c Config) LabelOrder(rel Release, suffix string, p manifest.Provenance) (cmp int, ok bool) {
	cur := canonicalVersion(rel.Ref)
	if p.Version == "" || !semver.IsValid(cur) {
		return 0, false
	}
	v := p.Version
	if suffix != "" {
		if !strings.HasSuffix(v, suffix) {
			// metadata-action writes the tag it pushes, suffix included;
			// a bare version is accepted, another suffix is not ours.
			if strings.Contains(v, "-") {
				return 0, false
			}
		} else {
			v = strings.TrimSuffix(v, suffix)
		}
	}
	if !semver.IsValid(canonicalVersion(v)) || semver.Prerelease(canonicalVersion(v)) != "" {
		return 0, false
	}
	return semver.Compare(canonicalVersion(v), cur), true
}

// TagLister lists a repo's tags at most once and shares the answer: the
// fallback when labels cannot say whether latest may move. The zero value
// is ready to use.
type TagLister struct {
	mu    sync.Mutex
	repos map[string]*listing
}

type listing struct {
	once sync.Once
	tags []string
	err  error
}

// Tags returns repo's tags, listing it on first use.
func (l *TagLister) Tags(ctx context.Context, c *registry.Client, repo name.Repository) ([]string, error) {
	l.mu.Lock()
	if l.repos == nil {
		l.repos = map[string]*listing{}
	}
	e, ok := l.repos[repo.String()]
	if !ok {
		e = &listing{}
		l.repos[repo.String()] = e
	}
	l.mu.Unlock()
	e.once.Do(func() {
		// Every caller waits on this listing, whichever backend asked
		// first: its pages go ahead of backend work (priority 0), or
		// they would queue behind every backend numbered before the
		// first asker while the others wait.
		// A 404 is no answer: a repo that does not exist (or a listing
		// that is not there) never says "no newer release".
		e.tags, e.err = c.Tags(registry.WithPriority(ctx, 0), repo)
	})
	return e.tags, e.err
}

// Newer says whether the image under a backend's latest tag in repo belongs
// to a release newer than rel, so latest must not move back: by its labels
// when they tell, else by the newest release tag of the backend in repo's
// listing (listed at most once per lister). what names the newer release.
func (c Config) Newer(ctx context.Context, cl *registry.Client, l *TagLister, repo name.Repository, rel Release, suffix string, p manifest.Provenance) (newer bool, what string, err error) {
	if cmp, ok := c.LabelOrder(rel, suffix, p); ok {
		if cmp > 0 {
			return true, p.String(), nil
		}
		return false, "", nil
	}
	tags, err := l.Tags(ctx, cl, repo)
	if err != nil {
		return false, "", err
	}
	if n := c.NewerRelease(rel, suffix, tags); n != "" {
		return true, n, nil
	}
	return false, "", nil
}
