package inspect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// ErrInput marks an inspection that cannot run on its input (a --run with no
// anchor at all): the CLI's exit code 2. errors.Is finds it; the message
// is the reason alone.
var ErrInput = errors.New("unusable input")

type inputError struct{ error }

func (inputError) Is(target error) bool { return target == ErrInput }

// anchorListing is the anchor repo's tag listing, fetched once and shared by
// every backend: it picks the run and spares a request per absent anchor.
type anchorListing struct {
	ready chan struct{}
	tags  map[string]bool
	all   []string
	err   error
}

// prober runs the registry work of one inspection.
type prober struct {
	e      *engine
	anchor *anchorListing
	// cancel stops every probe when the input turns out unusable.
	cancel context.CancelFunc
	// lister lists a target's tags at most once, only when an image's
	// labels cannot say whether latest is behind.
	lister TagLister

	wg       sync.WaitGroup
	mu       sync.Mutex
	problems []string
	inputErr error
	// run is the run whose anchors are used and runNote why; runErr, when
	// set, is why no run could be picked (the anchor listing failed).
	run, runNote string
	runErr       error
	// heads: "repo@digest" -> what a successful manifest HEAD answered.
	heads map[string]manifest.ChildState
	// provenance: "repo@digest" -> labels of the image, read once.
	provenance map[string]*provLookup
	// sigs: "repo@digest" -> signature of a complete tag's image, once.
	sigs map[string]*sigLookup
}

type provLookup struct {
	once sync.Once
	p    manifest.Provenance
	err  error
}

func newProber(e *engine, cancel context.CancelFunc) *prober {
	return &prober{e: e, cancel: cancel, run: e.rep.Release.Run, heads: map[string]manifest.ChildState{}, provenance: map[string]*provLookup{}}
}

func (p *prober) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// start lists the anchor repo's tags in the background and picks the run.
// Targets are never listed up front: they hold every tag ever written.
func (p *prober) start(ctx context.Context) {
	al := &anchorListing{ready: make(chan struct{}), tags: map[string]bool{}}
	p.anchor = al
	anchor := p.e.s.cfg.Anchor
	if anchor == "" || len(p.e.rep.Backends) == 0 {
		al.err = errors.New("no anchor repo")
		if p.run != "" {
			p.runNote = "given with --run"
		}
		close(al.ready)
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(al.ready)
		r, err := p.e.c.Repository(anchor)
		if err == nil {
			al.all, err = p.e.c.Tags(ctx, r)
		}
		al.err = err
		for _, t := range al.all {
			al.tags[t] = true
		}
		p.pickRun(anchor, al)
	}()
}

// pickRun settles the run once the anchor listing is in: --run must have
// anchors (else the input is wrong), and without --run the newest anchored
// run is taken, saying so.
func (p *prober) pickRun(anchor string, al *anchorListing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if al.err != nil {
		p.problems = append(p.problems, "anchor repo: "+classText(al.err))
		if p.run == "" {
			p.runErr = fmt.Errorf("could not list the anchor repo %s to pick a run: %s", anchor, classText(al.err))
		} else {
			p.runNote = "given with --run (the anchor repo could not be listed to check it)"
		}
		return
	}
	runs := RunsInTags(al.all)
	if p.run != "" {
		for _, r := range runs {
			if r.ID == p.run {
				p.runNote = fmt.Sprintf("given with --run; %d legs anchored", r.Anchors)
				return
			}
		}
		p.inputErr = inputError{fmt.Errorf("--run %s: no keepalive anchor of that run in %s; `remerge runs` lists the anchored runs", p.run, anchor)}
		p.cancel()
		return
	}
	switch len(runs) {
	case 0:
		p.runNote = "no run is anchored in " + anchor
	case 1:
		p.run, p.runNote = runs[0].ID, fmt.Sprintf("the only run anchored in %s (%d legs)", anchor, runs[0].Anchors)
	default:
		p.run, p.runNote = runs[0].ID, fmt.Sprintf("the newest of %d runs anchored in %s (%d legs); pick another with --run", len(runs), anchor, runs[0].Anchors)
	}
}

func (p *prober) wait() { p.wg.Wait() }

// runID waits for the anchor listing and returns the run whose anchors are
// used ("" for none) or why none could be picked.
func (p *prober) runID(ctx context.Context) (string, error) {
	select {
	case <-p.anchor.ready:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run, p.runErr
}

// published is what a tag of a target resolved to.
type published struct {
	target, repo, tag, role string
	status                  TagStatus
	m                       *manifest.Manifest // nil unless it resolved and parsed
}

// backend runs every probe of one backend, then judges it.
func (p *prober) backend(ctx context.Context, suffix string) {
	spec, tagRefs := p.specOf(suffix)
	// Published tags resolve in the background while digests are sought.
	pubs := make(chan []published, 1)
	go func() { pubs <- p.resolveTags(ctx, spec, tagRefs) }()

	digests := make([]string, len(spec.Legs))
	from := make([]DigestSource, len(spec.Legs))
	known := make([]map[string]bool, len(spec.Legs)) // repos known present
	whyNot := make([]string, len(spec.Legs))         // could not tell the digest
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
		a := p.anchorLookup(ctx, suffix, leg)
		switch {
		case a.err != nil && digests[i] == "":
			// An error is never absence: no falling back to a published
			// list that may be another run's.
			whyNot[i] = a.err.Error()
		case a.err != nil, a.digest == "":
		case digests[i] == "":
			digests[i], from[i] = a.digest, FromAnchor
			known[i][p.e.s.cfg.Anchor] = true
		case digests[i] == a.digest:
			known[i][p.e.s.cfg.Anchor] = true
		default:
			p.e.addProblem(suffix, fmt.Sprintf("%s digest disagreement: digests folder says %s, keepalive anchor %s says %s; using the digests folder",
				leg.PlatformTag, digests[i], a.tag, a.digest))
		}
	}
	var tags []published
	gotTags := false
	for i, leg := range spec.Legs {
		if digests[i] != "" || whyNot[i] != "" || spec.Kind == KindDarwin {
			continue
		}
		if !gotTags {
			tags, gotTags = <-pubs, true
		}
		d, err := publishedDigest(spec.Kind, leg, tags, IsSemver(p.e.rep.Release.Ref))
		switch {
		case err != nil:
			whyNot[i] = err.Error()
		case d != "":
			digests[i], from[i] = d, FromPublished
		}
	}
	if why := p.notBuilt(ctx, suffix, digests, whyNot); why != "" {
		p.e.setNotBuilt(suffix, why)
	}
	for i, d := range digests {
		switch {
		case d != "":
			p.e.setDigest(suffix, i, d, from[i])
		case whyNot[i] != "":
			p.e.setDigestError(suffix, i, whyNot[i])
		}
	}
	p.probeCells(ctx, suffix, spec, digests, known)
	if !gotTags {
		tags = <-pubs
	}
	p.judgeTags(ctx, suffix, spec, digests, tags)
	run, runErr := p.runID(ctx)
	p.e.finish(suffix, func(b *BackendReport) {
		judge(b, judgeInput{cfg: p.e.s.cfg, run: run, runErr: runErr, anchor: p.e.s.cfg.Anchor, hadDigests: p.e.s.digests != nil})
	})
}

// notBuilt says why a backend of a branch release was not built by the run
// ("" when it was, or when that cannot be told): none of its legs has a
// digest from the run's anchors, the digests folder or the commit's sha-
// tag, and every lookup answered. Master pushes are path-filtered, so most
// backends of a branch run are like this.
func (p *prober) notBuilt(ctx context.Context, suffix string, digests, whyNot []string) string {
	if IsSemver(p.e.rep.Release.Ref) || len(digests) == 0 {
		return ""
	}
	for i := range digests {
		if digests[i] != "" || whyNot[i] != "" {
			return ""
		}
	}
	run, err := p.runID(ctx)
	var from []string
	if run != "" && err == nil {
		from = append(from, "no keepalive anchor of run "+run)
	}
	if p.e.s.digests != nil {
		from = append(from, "not in the digests folder")
	}
	if p.e.rep.Release.SHA != "" {
		from = append(from, "no sha- tag for the commit")
	}
	if p.e.s.digests == nil && p.e.rep.Release.SHA == "" {
		// A good merge deletes its anchors: without the commit's sha- tag
		// or the digests folder, a built backend looks the same.
		return ""
	}
	return "not built in this run: " + strings.Join(from, ", ")
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

// anchorAnswer is what a leg's keepalive anchor says: a digest, nothing
// (no anchor: digest ""), or could-not-tell (err).
type anchorAnswer struct {
	tag, digest string
	err         error
}

// anchorLookup resolves the run's keepalive tag for a leg. The anchor step
// (`imagetools create -t <anchor>:<keepalive> <target>@DIGEST`) writes a
// one-entry list whose child is the leg's digest; older buildx wrote the
// manifest itself. The child's platform must be the leg's.
func (p *prober) anchorLookup(ctx context.Context, suffix string, leg LegSpec) anchorAnswer {
	run, err := p.runID(ctx)
	if err != nil {
		return anchorAnswer{err: err}
	}
	if p.e.s.cfg.Anchor == "" || run == "" {
		return anchorAnswer{}
	}
	a := anchorAnswer{tag: KeepaliveTag(run, suffix, leg.PlatformTag)}
	if p.anchor.err == nil && !p.anchor.tags[a.tag] {
		return a
	}
	ref, err := p.e.c.Reference(p.e.s.cfg.Anchor + ":" + a.tag)
	if err != nil {
		a.err = err
		return a
	}
	raw, desc, err := p.e.c.Manifest(ctx, ref)
	if err != nil {
		if c, _ := registry.Classify(err); c == registry.NotFound {
			return a
		}
		a.err = fmt.Errorf("could not read keepalive anchor %s: %s", a.tag, classText(err))
		return a
	}
	m, err := manifest.Parse(raw, string(desc.MediaType), desc.Digest.String())
	if err != nil {
		a.err = fmt.Errorf("keepalive anchor %s: %v", a.tag, err)
		return a
	}
	if !m.IsList() {
		a.digest = m.Digest
		return a
	}
	var match []manifest.Descriptor
	for _, e := range m.Entries {
		if leg.Platform == "" || e.Platform == "" || manifest.SamePlatform(e.Platform, leg.Platform) {
			match = append(match, e)
		}
	}
	if len(match) != 1 {
		a.err = fmt.Errorf("keepalive anchor %s is a list of %d with %d entries for %s: cannot tell the leg's digest", a.tag, len(m.Entries), len(match), leg.Platform)
		return a
	}
	a.digest = match[0].Digest
	return a
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
				if pub.status.State == TagError || pub.status.State == TagDenied {
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
	m, err := manifest.Parse(raw, string(desc.MediaType), desc.Digest.String())
	pub.status = TagStatus{Digest: desc.Digest.String(), MediaType: m.MediaType}
	if err != nil {
		// Bytes that do not parse are not read as a broken list to
		// replace: could not tell what the tag is.
		pub.status.State, pub.status.Error = TagError, err.Error()
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
	return TagStatus{State: TagState(c.State), Error: c.Error}
}

// Runs lists the CI runs anchored in the anchor repo, newest first.
func Runs(ctx context.Context, c *registry.Client, cfg Config) ([]AnchorRun, error) {
	r, err := c.Repository(cfg.Anchor)
	if err != nil {
		return nil, fmt.Errorf("anchor %s: %w", cfg.Anchor, err)
	}
	tags, err := c.Tags(ctx, r)
	if err != nil {
		return nil, errors.New(classText(err)) // the text names the repo
	}
	return RunsInTags(tags), nil
}

func classText(err error) string {
	_, msg := registry.Classify(err)
	return msg
}
