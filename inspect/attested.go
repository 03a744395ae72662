package inspect

import (
	"context"
	"fmt"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
)

// This file holds what inspect does for a leg whose digest is an attested
// build (build-push-action's default provenance, or an SBOM): an OCI index
// naming the platform's image and its attestation manifests. The merge
// lists every manifest of that index (manifest.Merge), so a repo serves
// the leg only when it holds the index and everything it names.

// attestedCell finishes the cell of repo@digest, which answered a HEAD
// as a list: present when it is an attested build whose every manifest
// repo holds; missing (saying which) when one of them is absent; could
// not tell when a read did not answer.
func (p *prober) attestedCell(ctx context.Context, repo, digest, mediaType string) release.Cell {
	m, err := p.attestedIndex(ctx, repo, digest, mediaType)
	if err != nil {
		return release.Cell{State: release.CellError, Error: err.Error()}
	}
	return p.entriesCell(ctx, repo, m, "holds the index but not %s, which it names")
}

// entriesCell is the cell of an attested build in repo by the manifests
// its index m names: present when repo holds every one; missing, saying
// which (missingText has one %s), when one is absent; could not tell when
// a HEAD did not answer.
func (p *prober) entriesCell(ctx context.Context, repo string, m *manifest.Manifest, missingText string) release.Cell {
	for _, e := range m.Entries {
		ref, err := p.e.c.Reference(repo + "@" + e.Digest)
		if err != nil {
			return release.Cell{State: release.CellError, Error: err.Error()}
		}
		desc, err := p.e.c.Head(ctx, ref)
		if err != nil {
			c := cellOf(err)
			if c.State == release.CellMissing {
				c.Error = fmt.Sprintf(missingText, attestedWhat(e))
			} else {
				c.Error = fmt.Sprintf("%s, which the index names: %s", attestedWhat(e), c.Error)
			}
			return c
		}
		p.recordHead(repo, e.Digest, desc.Size, string(desc.MediaType))
	}
	return release.Cell{State: release.CellPresent}
}

// settleReapedIndexes looks again at each cell whose attested build's
// index was not found in its repo, once the index is known from another
// (an anchor, a target that keeps untagged manifests): nothing references
// a build's index after the merge, so a registry's GC reaps it while the
// list keeps every manifest it names. A repo holding all of them serves
// the leg as well as the index would; one lacking any is still missing.
func (p *prober) settleReapedIndexes(ctx context.Context, suffix string, spec release.BackendSpec, digests []string) {
	cells := p.e.cellsOf(suffix)
	for i := range spec.Legs {
		m := p.indexOf(digests[i])
		if m == nil {
			continue
		}
		for repo, c := range cells[i] {
			if c.State != release.CellMissing || c.Error != "" {
				continue
			}
			p.e.reviseCell(suffix, i, repo, p.entriesCell(ctx, repo, m, "the index is gone (reaped after the merge?) and so is %s"))
		}
	}
}

// attestedWhat names an entry of an attested build for prose.
func attestedWhat(e manifest.Descriptor) string {
	if e.AttestationOf != "" {
		return "its attestation manifest " + manifest.Short(e.Digest)
	}
	return "its " + e.Platform + " image " + manifest.Short(e.Digest)
}

// attestedIndex reads the index repo@digest and checks it is one
// platform's attested build. A digest names one content, so it is read
// once for every repo and kept for judging the tags (indexOf).
func (p *prober) attestedIndex(ctx context.Context, repo, digest, mediaType string) (*manifest.Manifest, error) {
	p.mu.Lock()
	m, ok := p.indexes[digest]
	p.mu.Unlock()
	if ok {
		return m, nil
	}
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return nil, err
	}
	var parsed manifest.Manifest
	raw, err := p.e.c.ManifestBytes(ctx, ref.Context().Digest(digest))
	if err != nil {
		err = fmt.Errorf("reading index %s: %s", manifest.Short(digest), classText(err))
	} else if parsed, err = manifest.Parse(raw, mediaType, digest); err == nil {
		if _, err = manifest.Attested(parsed); err != nil {
			err = fmt.Errorf("a list, not one platform's attested build: %w", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if _, ok := p.unread[digest]; !ok {
			p.unread[digest] = err.Error()
		}
		return nil, err
	}
	p.indexes[digest] = &parsed
	delete(p.unread, digest)
	return &parsed, nil
}

// keepIndex records an attested build read elsewhere (its keepalive
// anchor), so the tags are judged against what it puts in the list even
// when no other repo still holds the index: after a merge nothing
// references it, and a registry's GC reaps it.
func (p *prober) keepIndex(m manifest.Manifest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.indexes[m.Digest] = &m
	delete(p.unread, m.Digest)
}

// unreadIndex says why a leg's digest, which a registry named as a list,
// could not be read as an attested build ("" when it was, or is no list).
func (p *prober) unreadIndex(digest string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.indexes[digest]; ok {
		return ""
	}
	return p.unread[digest]
}

// indexOf is the attested build a leg's digest names, nil when it is an
// image (or was never read as an index).
func (p *prober) indexOf(digest string) *manifest.Manifest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.indexes[digest]
}
