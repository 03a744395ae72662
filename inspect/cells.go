package inspect

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// probeCells answers every (leg, repo) cell: present where already proven
// (the anchor's keepalive tag), unknown where no digest is known, else one
// manifest HEAD per (digest, repo).
func (p *prober) probeCells(ctx context.Context, suffix string, spec release.BackendSpec, digests []string, known []map[string]bool) {
	var wg sync.WaitGroup
	for i := range spec.Legs {
		for _, r := range reposFor(spec.Kind, p.e.rep.Repos) {
			switch {
			case digests[i] == "":
				p.e.setCell(suffix, i, r.Repo, release.Cell{State: release.CellUnknown})
			case known[i][r.Repo] && !p.e.s.deep:
				p.e.setCell(suffix, i, r.Repo, release.Cell{State: release.CellPresent})
			default:
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.e.setCell(suffix, i, r.Repo, p.probeCell(ctx, r.Repo, digests[i]))
				}()
			}
		}
	}
	wg.Wait()
	p.settleReapedIndexes(ctx, suffix, spec, digests)
}

// probeCell HEADs repo@digest and, with --deep, checks the blobs it names.
func (p *prober) probeCell(ctx context.Context, repo, digest string) release.Cell {
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return release.Cell{State: release.CellError, Error: err.Error()}
	}
	desc, err := p.e.c.Head(ctx, ref)
	if err != nil {
		return cellOf(err)
	}
	p.recordHead(repo, digest, desc.Size, string(desc.MediaType))
	c := release.Cell{State: release.CellPresent}
	if manifest.IsList(string(desc.MediaType)) {
		if c = p.attestedCell(ctx, repo, digest, string(desc.MediaType)); c.State != release.CellPresent {
			return c
		}
	}
	if p.e.s.deep {
		missing, err := p.missingBlobs(ctx, repo, digest)
		if err != nil {
			return release.Cell{State: release.CellError, Error: "deep check: " + err.Error()}
		}
		c.MissingBlobs = missing
	}
	return c
}

func cellOf(err error) release.Cell {
	switch cls, msg := registry.Classify(err); cls {
	case registry.NotFound:
		return release.Cell{State: release.CellMissing}
	case registry.Denied:
		return release.Cell{State: release.CellDenied, Error: msg}
	case registry.Quota, registry.RepoUnknown:
		// Not asked, the registry's quota being spent; or the repo does not
		// exist, so nothing in it is missing. Unknown either way.
		return release.Cell{State: release.CellUnknown, Error: msg}
	default:
		return release.Cell{State: release.CellError, Error: msg}
	}
}

// missingBlobs lists the config and layer blobs of repo@digest that are not
// linked in repo.
func (p *prober) missingBlobs(ctx context.Context, repo, digest string) ([]string, error) {
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return nil, err
	}
	// probeCell's HEAD just found it here: only the bytes are wanted.
	raw, err := p.e.c.ManifestBytes(ctx, ref.Context().Digest(digest))
	if err != nil {
		return nil, err
	}
	// The one manifest decoder, as a re-merge's plan reads the same child:
	// a manifest that names no config is an error here too, never a child
	// with nothing missing.
	m, err := manifest.Parse(raw, "", digest)
	if err != nil {
		return nil, err
	}
	r, err := p.e.c.Repository(repo)
	if err != nil {
		return nil, err
	}
	blobs := m.Blobs()
	for _, e := range m.Entries {
		// An attested build: the blobs of every manifest it names.
		raw, err := p.e.c.ManifestBytes(ctx, r.Digest(e.Digest))
		if err != nil {
			return nil, err
		}
		pm, err := manifest.Parse(raw, e.MediaType, e.Digest)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, pm.Blobs()...)
	}
	var missing []string
	for _, b := range blobs {
		ok, err := p.e.c.BlobExists(ctx, r, b.Digest)
		if err != nil {
			return nil, fmt.Errorf("blob %s: %s", b.Digest, classText(err))
		}
		if !ok {
			missing = append(missing, b.Digest)
		}
	}
	return missing, nil
}

// setDigestError records why a leg's digest could not be told.
func (e *engine) setDigestError(suffix string, leg int, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.backends[suffix].Legs[leg].DigestError = why
}

// cellsOf returns a copy of each leg's cells, keyed by repo.
func (e *engine) cellsOf(suffix string) []map[string]release.Cell {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.backends[suffix]
	out := make([]map[string]release.Cell, len(b.Legs))
	for i, l := range b.Legs {
		out[i] = release.CloneCells(l.Cells)
	}
	return out
}

// setConflicts records which targets' release tags are complete images of
// other digests.
func (e *engine) setConflicts(suffix string, c map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, ts := range e.backends[suffix].Targets {
		ts.Conflict = c[name]
	}
}

// addProblem records a finding on a backend while it is being probed.
func (e *engine) addProblem(suffix, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.backends[suffix]
	b.Problems = append(b.Problems, text)
}
