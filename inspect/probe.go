package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/go-skynet/remerge/internal/registry"
)

// tagList is a repo's tag listing, fetched once and shared by every backend:
// it picks the run, spares a request per absent tag and tells whether a
// newer release exists.
type tagList struct {
	ready chan struct{}
	tags  map[string]bool
	all   []string
	err   error
}

func (t *tagList) wait(ctx context.Context) bool {
	select {
	case <-t.ready:
		return t.err == nil
	case <-ctx.Done():
		return false
	}
}

// has reports whether tag exists; unknown (listing failed) counts as yes so
// the tag is probed directly.
func (t *tagList) has(tag string) bool { return t.err != nil || t.tags[tag] }

// prober runs the registry work of one inspection.
type prober struct {
	e       *engine
	anchor  *tagList
	targets map[string]*tagList
	run     string

	wg       sync.WaitGroup
	mu       sync.Mutex
	problems []string
	// sizes: "repo@digest" -> manifest size, as each successful HEAD
	// answered; a list's entries are checked against them.
	sizes map[string]int64
}

func newProber(e *engine) *prober {
	return &prober{e: e, run: e.rep.Release.Run, targets: map[string]*tagList{}, sizes: map[string]int64{}}
}

func (p *prober) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// start lists the anchor repo's and each target's tags in the background.
func (p *prober) start(ctx context.Context) {
	p.anchor = p.list(ctx, p.e.s.cfg.Anchor, func(tl *tagList) {
		if tl.err != nil {
			// The client's error names the repo ("listing tags of ...").
			p.problem("anchor repo: %s", classText(tl.err))
			return
		}
		if p.run == "" {
			runs := RunsInTags(tl.all)
			if len(runs) > 0 {
				p.run = runs[0].ID
			}
		}
	})
	for _, t := range p.e.s.cfg.Targets {
		p.targets[t.Name] = p.list(ctx, t.Repo, nil)
	}
}

func (p *prober) list(ctx context.Context, repo string, then func(*tagList)) *tagList {
	tl := &tagList{ready: make(chan struct{}), tags: map[string]bool{}}
	if repo == "" || len(p.e.rep.Backends) == 0 {
		tl.err = fmt.Errorf("not listed")
		close(tl.ready)
		return tl
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(tl.ready)
		r, err := p.e.c.Repository(repo)
		if err == nil {
			tl.all, err = p.e.c.Tags(ctx, r)
		}
		tl.err = err
		for _, t := range tl.all {
			tl.tags[t] = true
		}
		if then != nil {
			then(tl)
		}
	}()
	return tl
}

func (p *prober) wait() { p.wg.Wait() }

// runID is the run whose anchors are used: --run, else the newest run found
// in the anchor repo. It is only read once the anchor listing is done.
func (p *prober) runID(ctx context.Context) string {
	p.anchor.wait(ctx)
	select {
	case <-p.anchor.ready:
		return p.run
	default:
		return ""
	}
}

// published is what a tag of a target resolved to.
type published struct {
	target, tag, role string
	status            TagStatus
	platforms         []string // os/arch[/variant] per child, list order
	sizes             []int64  // size each list entry declares, list order
}

// backend runs every probe of one backend, then judges it.
func (p *prober) backend(ctx context.Context, suffix string) {
	spec, tagRefs := p.specOf(suffix)
	// Published tags resolve in the background while digests are sought.
	pubs := make(chan []published, 1)
	go func() { pubs <- p.resolveTags(ctx, suffix, tagRefs) }()

	digests := make([]string, len(spec.Legs))
	from := make([]DigestSource, len(spec.Legs))
	known := make([]map[string]bool, len(spec.Legs)) // repos known present
	for i, leg := range spec.Legs {
		known[i] = map[string]bool{}
		if p.e.s.digests != nil {
			if d := p.e.s.digests.Digests[suffix][leg.PlatformTag]; d != "" {
				digests[i], from[i] = d, FromDigests
			}
		}
		if spec.Kind == KindDarwin {
			continue
		}
		ad := p.anchorDigest(ctx, suffix, leg.PlatformTag)
		switch {
		case ad == "":
		case digests[i] == "":
			digests[i], from[i] = ad, FromAnchor
			known[i][p.e.s.cfg.Anchor] = true
		case digests[i] == ad:
			known[i][p.e.s.cfg.Anchor] = true
		default:
			p.e.addProblem(suffix, fmt.Sprintf("%s digest disagreement: digests folder says %s, keepalive anchor of run %s says %s; using the digests folder",
				leg.PlatformTag, digests[i], p.runID(ctx), ad))
		}
	}
	var tags []published
	gotTags := false
	for i, leg := range spec.Legs {
		if digests[i] != "" {
			continue
		}
		if !gotTags {
			tags, gotTags = <-pubs, true
		}
		if d := publishedDigest(spec.Kind, leg, tags); d != "" {
			digests[i], from[i] = d, FromPublished
		}
	}
	for i, d := range digests {
		if d != "" {
			p.e.setDigest(suffix, i, d, from[i])
		}
	}
	p.probeCells(ctx, suffix, spec, digests, known)
	if !gotTags {
		tags = <-pubs
	}
	extra := p.probeForeignChildren(ctx, spec, digests, tags)
	for _, pub := range tags {
		p.checkSizes(&pub)
		p.e.setTag(suffix, pub.target, pub.tag, pub.status)
	}
	newer := map[string]string{}
	for name, tl := range p.targets {
		if tl.wait(ctx) {
			newer[name] = p.e.s.cfg.NewerRelease(p.e.rep.Release, suffix, tl.all)
		}
	}
	p.e.finish(suffix, func(b *BackendReport) {
		judge(b, judgeInput{cfg: p.e.s.cfg, run: p.runID(ctx), foreign: extra, newer: newer, anchor: p.e.s.cfg.Anchor, hadDigests: p.e.s.digests != nil})
	})
}

// specOf returns the immutable facts of a backend, read once under the lock.
func (p *prober) specOf(suffix string) (BackendSpec, []TagRef) {
	p.e.mu.Lock()
	defer p.e.mu.Unlock()
	b := p.e.backends[suffix]
	spec := BackendSpec{Suffix: suffix, Kind: b.Kind}
	for _, l := range b.Legs {
		spec.Legs = append(spec.Legs, LegSpec{PlatformTag: l.PlatformTag, Platform: l.Platform})
	}
	return spec, p.e.tagsFor(b)
}

// anchorDigest resolves the run's keepalive tag for a leg, "" when absent.
// A tag that resolves also proves the digest present in the anchor repo.
func (p *prober) anchorDigest(ctx context.Context, suffix, plat string) string {
	run := p.runID(ctx)
	if p.e.s.cfg.Anchor == "" || run == "" {
		return ""
	}
	tag := KeepaliveTag(run, suffix, plat)
	if !p.anchor.has(tag) {
		return ""
	}
	ref, err := p.e.c.Reference(p.e.s.cfg.Anchor + ":" + tag)
	if err != nil {
		return ""
	}
	desc, err := p.e.c.Head(ctx, ref)
	if err != nil {
		return ""
	}
	return desc.Digest.String()
}

// publishedDigest finds a leg's digest among the children of the release
// (or sha) tag of any target, by platform.
func publishedDigest(kind Kind, leg LegSpec, tags []published) string {
	for _, role := range []string{RoleRelease, RoleBranch, RoleSHA} {
		for _, pub := range tags {
			if pub.role != role || pub.status.Digest == "" {
				continue
			}
			if kind != KindMultiarch || len(pub.platforms) == 0 {
				if len(pub.status.Children) == 1 {
					return pub.status.Children[0]
				}
				continue
			}
			for i, pl := range pub.platforms {
				if samePlatform(pl, leg.Platform) {
					return pub.status.Children[i]
				}
			}
		}
	}
	return ""
}

// samePlatform compares os/arch, and the variant only when both name one.
func samePlatform(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	if len(pa) < 2 || len(pb) < 2 || pa[0] != pb[0] || pa[1] != pb[1] {
		return false
	}
	return len(pa) < 3 || len(pb) < 3 || pa[2] == pb[2]
}

// resolveTags resolves every tag of the backend in every target. Per target
// the release tag is read first (GET: its children are needed); each other
// tag is then only HEADed when the release tag resolved, and read by digest
// only if it points elsewhere. A healthy backend thus costs one GET and two
// HEADs per target instead of three GETs: Docker Hub counts manifest GETs,
// not HEADs, against its pull-rate limit. When the release tag did not
// resolve, the other tags cannot share its digest and are read directly.
func (p *prober) resolveTags(ctx context.Context, suffix string, refs []TagRef) []published {
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
	pub := published{target: t.Name, tag: tr.Tag, role: tr.Role}
	tl := p.targets[t.Name]
	if tl.wait(ctx) && !tl.has(tr.Tag) {
		pub.status = TagStatus{State: TagMissing}
		return pub
	}
	ref, err := p.e.c.Reference(t.Repo + ":" + tr.Tag)
	if err != nil {
		pub.status = TagStatus{State: TagError, Error: err.Error()}
		return pub
	}
	if like != nil && like.status.Digest != "" && like.status.State != TagError {
		desc, err := p.e.c.Head(ctx, ref)
		if err != nil {
			pub.status = tagErrorStatus(err)
			return pub
		}
		if desc.Digest.String() == like.status.Digest {
			pub.status = like.status
			pub.status.Children = append([]string(nil), like.status.Children...)
			pub.platforms, pub.sizes = like.platforms, like.sizes
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
	pub.status = TagStatus{Digest: desc.Digest.String(), MediaType: string(desc.MediaType)}
	children, platforms, sizes, err := childrenOf(raw, desc.MediaType, desc.Digest.String())
	if err != nil {
		pub.status.State, pub.status.Error = TagError, err.Error()
		return pub
	}
	pub.status.Children, pub.platforms, pub.sizes = children, platforms, sizes
	return pub
}

// tagErrorStatus classifies a failed tag read as cellOf does a manifest
// HEAD: the tag words missing, denied and error are the cell words.
func tagErrorStatus(err error) TagStatus {
	c := cellOf(err)
	return TagStatus{State: TagState(c.State), Error: c.Error}
}

// childrenOf lists a published manifest's children: a list's entries, or
// the manifest itself (current buildx publishes a single source as is).
// For a list it also returns the size each entry declares (-1 when absent).
func childrenOf(raw []byte, mt types.MediaType, digest string) ([]string, []string, []int64, error) {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests []struct {
			Digest   string `json:"digest"`
			Size     *int64 `json:"size"`
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
				Variant      string `json:"variant"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, nil, nil, fmt.Errorf("malformed manifest %s: %v", digest, err)
	}
	if mt == "" {
		mt = probe.MediaType
	}
	if !mt.IsIndex() && probe.Manifests == nil {
		return []string{digest}, nil, nil, nil
	}
	var (
		children, platforms []string
		sizes               []int64
	)
	for _, m := range probe.Manifests {
		children = append(children, m.Digest)
		size := int64(-1)
		if m.Size != nil {
			size = *m.Size
		}
		sizes = append(sizes, size)
		pl := ""
		if m.Platform != nil {
			pl = m.Platform.OS + "/" + m.Platform.Architecture
			if m.Platform.Variant != "" {
				pl += "/" + m.Platform.Variant
			}
		}
		platforms = append(platforms, pl)
	}
	return children, platforms, sizes, nil
}

// Runs lists the CI runs anchored in the anchor repo, newest first.
func Runs(ctx context.Context, c *registry.Client, cfg Config) ([]AnchorRun, error) {
	r, err := c.Repository(cfg.Anchor)
	if err != nil {
		return nil, fmt.Errorf("anchor %s: %w", cfg.Anchor, err)
	}
	tags, err := c.Tags(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("anchor repo: %s", classText(err)) // the text names the repo
	}
	return RunsInTags(tags), nil
}

func classText(err error) string {
	_, msg := registry.Classify(err)
	return msg
}
