package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/go-skynet/remerge/internal/registry"
)

// probeCells answers every (leg, repo) cell: present where already proven
// (the anchor's keepalive tag), unknown where no digest is known, else one
// manifest HEAD per (digest, repo).
func (p *prober) probeCells(ctx context.Context, suffix string, spec BackendSpec, digests []string, known []map[string]bool) {
	var wg sync.WaitGroup
	for i := range spec.Legs {
		for _, r := range reposFor(spec.Kind, p.e.rep.Repos) {
			switch {
			case digests[i] == "":
				p.e.setCell(suffix, i, r.Repo, Cell{State: CellUnknown})
			case known[i][r.Repo] && !p.e.s.deep:
				p.e.setCell(suffix, i, r.Repo, Cell{State: CellPresent})
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
}

// probeCell HEADs repo@digest and, with --deep, checks the blobs it names.
func (p *prober) probeCell(ctx context.Context, repo, digest string) Cell {
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return Cell{State: CellError, Error: err.Error()}
	}
	desc, err := p.e.c.Head(ctx, ref)
	if err != nil {
		return cellOf(err)
	}
	p.mu.Lock()
	p.sizes[repo+"@"+digest] = desc.Size
	p.mu.Unlock()
	c := Cell{State: CellPresent}
	if p.e.s.deep {
		missing, err := p.missingBlobs(ctx, repo, digest)
		if err != nil {
			return Cell{State: CellError, Error: "deep check: " + err.Error()}
		}
		c.MissingBlobs = missing
	}
	return c
}

func cellOf(err error) Cell {
	switch cls, msg := registry.Classify(err); cls {
	case registry.NotFound:
		return Cell{State: CellMissing}
	case registry.Denied:
		return Cell{State: CellDenied, Error: msg}
	default:
		return Cell{State: CellError, Error: msg}
	}
}

// missingBlobs lists the config and layer blobs of repo@digest that are not
// linked in repo.
func (p *prober) missingBlobs(ctx context.Context, repo, digest string) ([]string, error) {
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return nil, err
	}
	raw, _, err := p.e.c.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("malformed manifest %s: %v", digest, err)
	}
	r, err := p.e.c.Repository(repo)
	if err != nil {
		return nil, err
	}
	blobs := []string{m.Config.Digest}
	for _, l := range m.Layers {
		blobs = append(blobs, l.Digest)
	}
	var missing []string
	for _, b := range blobs {
		if b == "" {
			continue
		}
		ok, err := p.e.c.BlobExists(ctx, r, b)
		if err != nil {
			return nil, fmt.Errorf("blob %s: %s", b, classText(err))
		}
		if !ok {
			missing = append(missing, b)
		}
	}
	return missing, nil
}

// probeForeignChildren HEADs, in their target, the children of a release
// tag that names other digests than expected, to tell a conflict (a
// complete image of other digests: a person decides) from a broken leftover
// (safe to replace). It returns target name -> whether that tag is complete.
func (p *prober) probeForeignChildren(ctx context.Context, spec BackendSpec, digests []string, tags []published) map[string]bool {
	expected := map[string]bool{}
	for _, d := range digests {
		expected[d] = true
	}
	out := map[string]bool{}
	for _, pub := range tags {
		if (pub.role != RoleRelease && pub.role != RoleBranch) || pub.status.Digest == "" || len(pub.status.Children) == 0 || spec.Kind == KindDarwin {
			continue
		}
		foreign := false
		for _, c := range pub.status.Children {
			if !expected[c] {
				foreign = true
			}
		}
		if !foreign {
			continue
		}
		repo := p.repoOf(pub.target)
		complete := true
		for _, c := range pub.status.Children {
			if p.probeCell(ctx, repo, c).State != CellPresent {
				complete = false
				break
			}
		}
		out[pub.target] = complete
	}
	return out
}

// checkSizes turns a list whose entries misstate a child's size into an
// error: clients verify the size they are told, so such a list cannot be
// pulled however present its children are. Only children HEADed in the
// list's repo (all of them, for a list that could be complete) are checked.
func (p *prober) checkSizes(pub *published) {
	if pub.status.State != "" || len(pub.sizes) != len(pub.status.Children) {
		return
	}
	repo := p.repoOf(pub.target)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, child := range pub.status.Children {
		served, ok := p.sizes[repo+"@"+child]
		if !ok || served == pub.sizes[i] {
			continue
		}
		declared := fmt.Sprintf("a size of %d bytes", pub.sizes[i])
		if pub.sizes[i] < 0 {
			declared = "no size"
		}
		pub.status.State = TagError
		pub.status.Error = fmt.Sprintf("list %s gives child %s %s but the registry serves %d: pulls of it fail",
			short(pub.status.Digest), short(child), declared, served)
		return
	}
}

func (p *prober) repoOf(target string) string {
	t, _ := p.e.s.cfg.Target(target)
	return t.Repo
}

// addProblem records a finding on a backend while it is being probed.
func (e *engine) addProblem(suffix, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.backends[suffix]
	b.Problems = append(b.Problems, text)
}
