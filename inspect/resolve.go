package inspect

import (
	"context"
	"fmt"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// This file reads what each tag of a backend names in each target, and
// finds a leg's digest among published lists when nothing better tells.

// pubTag is what a tag of a target resolved to.
type pubTag struct {
	target, repo, tag, role string
	status                  release.TagStatus
	m                       *manifest.Manifest // nil unless it resolved and parsed
}

// publishedDigest finds a leg's digest among the children of the release
// (or sha) tag of any target, by platform. An error is a tag that could not
// be read: the leg's digest cannot be told from published lists then.
func publishedDigest(kind release.Kind, leg release.LegSpec, tags []pubTag, semver bool) (string, error) {
	var unread []string
	roles := []string{release.RoleRelease, release.RoleSHA}
	if !semver {
		// A branch tag may name an older build: only the commit's sha-
		// tag is this run's.
		roles = []string{release.RoleSHA}
	}
	for _, role := range roles {
		for _, pub := range tags {
			if pub.role != role {
				continue
			}
			if pub.m == nil {
				if pub.status.State.NotRead() {
					unread = append(unread, fmt.Sprintf("%s in %s: %s", pub.tag, pub.target, pub.status.Error))
				}
				continue
			}
			if !pub.m.IsList() {
				if kind != release.KindMultiarch {
					return pub.m.Digest, nil
				}
				continue
			}
			if len(pub.m.Entries) == 1 && (kind != release.KindMultiarch || pub.m.Entries[0].Platform == "") {
				return pub.m.Entries[0].Digest, nil
			}
			for _, e := range pub.m.Entries {
				if !manifest.SamePlatform(e.Platform, leg.Platform) {
					continue
				}
				if attested(*pub.m, e.Digest) {
					// The list names what the build's index named; the
					// index itself, which the merge was given, is in
					// no list.
					return "", fmt.Errorf("%s in %s lists %s with its attestations: the digest of its build's index is needed (--digests) to merge it as buildx does", pub.tag, pub.target, manifest.Short(e.Digest))
				}
				return e.Digest, nil
			}
		}
	}
	if len(unread) > 0 {
		sort.Strings(unread)
		return "", fmt.Errorf("could not read the published tags to find it: %s", unread[0])
	}
	return "", nil
}

// attested says whether list m names an attestation manifest of image.
func attested(m manifest.Manifest, image string) bool {
	for _, e := range m.Entries {
		if e.AttestationOf == image {
			return true
		}
	}
	return false
}

// resolveTags resolves every tag of the backend in every target. Per
// target the release tag is read first (its children are needed: one GET
// where GETs are free, a HEAD and a read of bytes not known yet where they
// are counted, as the client decides), and each other tag is HEADed, and
// read by digest only if it points elsewhere. Bytes already known (from
// another target, the list computed from the anchors, or the disk cache)
// are not read again after a HEAD. A target on a registry that counts
// pulls (Docker Hub: known by name, or learnt from the release tag's HEAD
// answer) reads nothing until the other targets have resolved every tag
// and the expected list is computed (ready), so a list both hold is read
// where reading is free. A healthy backend thus costs, per target, one
// request per tag, and no GET on a registry that counts pulls.
func (p *prober) resolveTags(ctx context.Context, spec release.BackendSpec, refs []release.TagRef, ready <-chan struct{}) []pubTag {
	var (
		mu  sync.Mutex
		out []pubTag
		wg  sync.WaitGroup
		// free counts down targets that read where reading is free (all
		// their tags), and counting targets (their release tag's HEAD).
		free sync.WaitGroup
	)
	add := func(pub pubTag) {
		mu.Lock()
		out = append(out, pub)
		mu.Unlock()
	}
	free.Add(len(p.e.s.cfg.Targets))
	for _, t := range p.e.s.cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waited := false
			defer func() {
				if !waited {
					free.Done()
				}
			}()
			// gate runs before this target's first read of bytes: on a
			// registry that counts pulls (known once it has answered the
			// release tag's HEAD), it waits for the free targets.
			gate := sync.OnceFunc(func() {
				if p.countsPulls(t.Repo) {
					waited = true
					free.Done()
					free.Wait()
					select {
					case <-ready:
					case <-ctx.Done():
					}
				}
			})
			first := p.resolveTag(ctx, t, refs[0], nil, gate)
			add(first)
			var twg sync.WaitGroup
			for _, tr := range refs[1:] {
				twg.Add(1)
				go func() {
					defer twg.Done()
					add(p.resolveTag(ctx, t, tr, &first, gate))
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

// resolveTag reads one tag. With like (the target's release tag, read) it
// HEADs the tag and reuses like's reading when the digests agree.
// beforeRead, when not nil, runs between a HEAD and the read of bytes.
func (p *prober) resolveTag(ctx context.Context, t release.Target, tr release.TagRef, like *pubTag, beforeRead func()) pubTag {
	pub := pubTag{target: t.Name, repo: t.Repo, tag: tr.Tag, role: tr.Role}
	ref, err := p.e.c.Reference(t.Repo + ":" + tr.Tag)
	if err != nil {
		pub.status = release.TagStatus{State: release.TagError, Error: err.Error()}
		return pub
	}
	var raw []byte
	var desc *v1.Descriptor
	if like == nil || like.m == nil {
		// The bytes are wanted whatever the tag names: the client asks the
		// cheapest way for its registry (a HEAD, then bytes from where
		// reading is free, where GETs are counted; one GET elsewhere).
		raw, desc, err = p.e.c.Manifest(ctx, ref, registry.BeforeBytes(beforeRead))
	} else if desc, err = p.e.c.Head(ctx, ref); err == nil {
		// Most often the tag names like's digest and no bytes are wanted.
		// They are read by the HEAD's digest, so a tag moved meanwhile
		// cannot make the reading disagree with the HEAD.
		if desc.Digest.String() == like.m.Digest {
			pub.status, pub.m = like.status, like.m
			pub.status.Children = append([]string(nil), like.status.Children...)
			return pub
		}
		if beforeRead != nil {
			beforeRead()
		}
		raw, err = p.e.c.ManifestBytes(ctx, ref.Context().Digest(desc.Digest.String()))
	}
	if err != nil {
		pub.status = tagErrorStatus(err)
		return pub
	}
	p.sawRepo(t.Repo)
	m, err := manifest.Parse(raw, string(desc.MediaType), desc.Digest.String())
	pub.status = release.TagStatus{Digest: desc.Digest.String(), MediaType: m.MediaType}
	if err != nil {
		j := manifest.Unparseable(err)
		pub.status.State, pub.status.Error, pub.status.Reason = release.TagState(j.State), err.Error(), j.Reason
		return pub
	}
	pub.m = &m
	pub.status.Children = m.Children()
	pub.status.Form = manifest.FormOf(m)
	return pub
}

// countsPulls says whether repo's registry counts manifest GETs as pulls.
func (p *prober) countsPulls(repo string) bool {
	r, err := p.e.c.Repository(repo)
	return err == nil && p.e.c.CountsPulls(r.RegistryStr())
}

// tagErrorStatus classifies a failed tag read as cellOf does a manifest
// HEAD: the tag words missing, denied and error are the cell words.
func tagErrorStatus(err error) release.TagStatus {
	c := cellOf(err)
	if cls, _ := registry.Classify(err); cls == registry.Quota {
		return release.TagStatus{State: release.TagUnknown, Error: c.Error} // not asked: the quota is spent
	}
	if c.State == release.CellUnknown { // the repo does not exist
		return release.TagStatus{State: release.TagError, Error: c.Error}
	}
	return release.TagStatus{State: release.TagState(c.State), Error: c.Error}
}
