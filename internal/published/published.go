// Package published answers what inspect and repair both ask of a published
// image beyond its manifest: what release it was built as (its labels), and,
// when the labels cannot tell, the target's tag listing, fetched at most once
// per repo and run. Both decide with it whether a forward-only tag (latest, a
// series tag) may move to a release.
package published

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// ReadProvenance reads the metadata-action labels of the image m names in
// repo: its own config, or for a list its first child's config. Costs at
// most one blob GET (plus one manifest GET for a list), none when the
// client already knows those digests' bytes: labels are read by digest,
// whichever repo they came from.
func ReadProvenance(ctx context.Context, c *registry.Client, repo name.Repository, m manifest.Manifest) (manifest.Provenance, error) {
	if m.IsList() {
		if len(m.Entries) == 0 {
			return manifest.Provenance{}, fmt.Errorf("list %s names no child: no image to read labels from", manifest.Short(m.Digest))
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
			return manifest.Provenance{}, fmt.Errorf("child %s is itself a list", manifest.Short(child))
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

// NewerFor says whether the image under a forward-only tag of a backend
// (latest, or a series tag such as 2.1; "" for latest) in repo belongs to a
// release newer than rel, so the tag must not move back: by its labels p
// when they tell, else by the newest release tag of the backend in repo's
// listing (listed at most once per lister). From the listing only a newer
// release in the tag's own series keeps it (v2.2.0 keeps 2 but not 2.1 from
// moving to v2.1.x); latest is kept by any newer release. what names the
// newer release.
func (l *TagLister) NewerFor(ctx context.Context, cl *registry.Client, c release.Config, repo name.Repository, rel release.Release, suffix, tag string, p manifest.Provenance) (newer bool, what string, err error) {
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
	if n := c.NewerInSeries(rel, suffix, tag, tags); n != "" {
		return true, n, nil
	}
	return false, "", nil
}
