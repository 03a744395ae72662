package inspect

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// This file reads what each tag of a backend names in each target, and
// finds a leg's digest among published lists when nothing better tells.

// published is what a tag of a target resolved to.
type published struct {
	target, repo, tag, role string
	status                  TagStatus
	m                       *manifest.Manifest // nil unless it resolved and parsed
}

// publishedDigest finds a leg's digest among the children of the release
// (or sha) tag of any target, by platform. An error is a tag that could not
// be read: the leg's digest cannot be told from published lists then.
func publishedDigest(kind Kind, leg LegSpec, tags []published, semver bool) (string, error) {
	var unread []string
	roles := []string{RoleRelease, RoleSHA}
	if !semver {
		// A branch tag may name an older build: only the commit's sha-
		// tag is this run's.
		roles = []string{RoleSHA}
	}
	for _, role := range roles {
		for _, pub := range tags {
			if pub.role != role {
				continue
			}
			if pub.m == nil {
				if notRead(pub.status.State) {
					unread = append(unread, fmt.Sprintf("%s in %s: %s", pub.tag, pub.target, pub.status.Error))
				}
				continue
			}
			if !pub.m.IsList() {
				if kind != KindMultiarch {
					return pub.m.Digest, nil
				}
				continue
			}
			if len(pub.m.Entries) == 1 && (kind != KindMultiarch || pub.m.Entries[0].Platform == "") {
				return pub.m.Entries[0].Digest, nil
			}
			for _, e := range pub.m.Entries {
				if manifest.SamePlatform(e.Platform, leg.Platform) {
					return e.Digest, nil
				}
			}
		}
	}
	if len(unread) > 0 {
		sort.Strings(unread)
		return "", fmt.Errorf("could not read the published tags to find it: %s", unread[0])
	}
	return "", nil
}

// resolveTags resolves every tag of the backend in every target. Per target
// the release tag is read first (GET: its children are needed); each other
// tag is then HEADed, and read by digest only if it points elsewhere. A
// healthy backend thus costs one GET and two HEADs per target: Docker Hub
// counts manifest GETs, not HEADs, against its pull-rate limit. When the
// release tag did not resolve, the other tags are read directly.
func (p *prober) resolveTags(ctx context.Context, spec BackendSpec, refs []TagRef) []published {
	var (
		mu  sync.Mutex
		out []published
		wg  sync.WaitGroup
	)
	add := func(pub published) {
		mu.Lock()
		out = append(out, pub)
		mu.Unlock()
	}
	for _, t := range p.e.s.cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := p.resolveTag(ctx, t, refs[0], nil)
			add(first)
			var twg sync.WaitGroup
			for _, tr := range refs[1:] {
				twg.Add(1)
				go func() {
					defer twg.Done()
					add(p.resolveTag(ctx, t, tr, &first))
				}()
			}
			twg.Wait()
		}()
	}
	wg.Wait()
	// Deterministic order: config target order, then tag order.
	order := map[string]int{}
	for i, t := range p.e.s.cfg.Targets {
		for j, tr := range refs {
			order[t.Name+"\x00"+tr.Tag] = i*len(refs) + j
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return order[out[i].target+"\x00"+out[i].tag] < order[out[j].target+"\x00"+out[j].tag]
	})
	return out
}

// resolveTag reads one tag. With like (the target's release tag, resolved)
// it HEADs the tag and reuses like's reading when the digests agree.
func (p *prober) resolveTag(ctx context.Context, t Target, tr TagRef, like *published) published {
	pub := published{target: t.Name, repo: t.Repo, tag: tr.Tag, role: tr.Role}
	ref, err := p.e.c.Reference(t.Repo + ":" + tr.Tag)
	if err != nil {
		pub.status = TagStatus{State: TagError, Error: err.Error()}
		return pub
	}
	if like != nil && like.m != nil {
		desc, err := p.e.c.Head(ctx, ref)
		if err != nil {
			pub.status = tagErrorStatus(err)
			return pub
		}
		if desc.Digest.String() == like.m.Digest {
			pub.status, pub.m = like.status, like.m
			pub.status.Children = append([]string(nil), like.status.Children...)
			return pub
		}
		// Another image: read it by digest, so a tag moved meanwhile
		// cannot make the reading disagree with the HEAD.
		if ref, err = p.e.c.Reference(t.Repo + "@" + desc.Digest.String()); err != nil {
			pub.status = TagStatus{State: TagError, Error: err.Error()}
			return pub
		}
	}
	raw, desc, err := p.e.c.Manifest(ctx, ref)
	if err != nil {
		pub.status = tagErrorStatus(err)
		return pub
	}
	p.sawRepo(t.Repo)
	m, err := manifest.Parse(raw, string(desc.MediaType), desc.Digest.String())
	pub.status = TagStatus{Digest: desc.Digest.String(), MediaType: m.MediaType}
	if err != nil {
		j := manifest.Unparseable(err)
		pub.status.State, pub.status.Error, pub.status.Reason = TagState(j.State), err.Error(), j.Reason
		return pub
	}
	pub.m = &m
	pub.status.Children = m.Children()
	pub.status.Form = manifest.FormOf(m)
	return pub
}

// tagErrorStatus classifies a failed tag read as cellOf does a manifest
// HEAD: the tag words missing, denied and error are the cell words.
func tagErrorStatus(err error) TagStatus {
	c := cellOf(err)
	if cls, _ := registry.Classify(err); cls == registry.Quota {
		return TagStatus{State: TagUnknown, Error: c.Error} // not asked: the quota is spent
	}
	if c.State == CellUnknown { // the repo does not exist
		return TagStatus{State: TagError, Error: c.Error}
	}
	return TagStatus{State: TagState(c.State), Error: c.Error}
}
