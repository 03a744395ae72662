package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// This file answers which run an inspection uses and what its keepalive
// anchors say: the anchor repo is listed once, the run picked (or --run
// checked), and each leg's keepalive tag resolved to its child.

// anchorListing is the anchor repo's tag listing, fetched once and shared by
// every backend: it picks the run and spares a request per absent anchor.
type anchorListing struct {
	ready chan struct{}
	tags  map[string]bool
	all   []string
	err   error
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
	runs := release.RunsInTags(al.all)
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

// anchorAnswer is what a leg's keepalive anchor says: a digest, nothing
// (no anchor: digest ""), or could-not-tell (err).
type anchorAnswer struct {
	tag, digest string
	// entry is the leg's entry in the anchor's list: what a merged list
	// states about the child (nil for a bare manifest under the tag).
	entry *manifest.Descriptor
	err   error
}

// anchorLookup resolves the run's keepalive tag for a leg. The anchor step
// (`imagetools create -t <anchor>:<keepalive> <target>@DIGEST`) writes a
// one-entry list whose child is the leg's digest; older buildx wrote the
// manifest itself. The child's platform must be the leg's.
func (p *prober) anchorLookup(ctx context.Context, suffix string, leg release.LegSpec) anchorAnswer {
	run, err := p.runID(ctx)
	if err != nil {
		return anchorAnswer{err: err}
	}
	if p.e.s.cfg.Anchor == "" || run == "" {
		return anchorAnswer{}
	}
	a := anchorAnswer{tag: release.KeepaliveTag(run, suffix, leg.PlatformTag)}
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
		if registry.IsNotFound(err) {
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
	if img, err := manifest.Attested(m); err == nil {
		// An attested build's anchor: buildx publishes a single source
		// index as it is, so the tag names the leg's own index.
		if leg.Platform != "" && !manifest.SamePlatform(manifest.NormalPlatform(img.Platform), leg.Platform) {
			a.err = fmt.Errorf("keepalive anchor %s is a build for %s, not %s", a.tag, img.Platform, leg.Platform)
			return a
		}
		a.digest = m.Digest
		p.e.c.Holds(ref.Context(), a.digest)
		p.keepIndex(m)
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
	a.entry = &match[0]
	// The anchor repo holds the child its list names: a copy of it may be
	// read there, for free, when Docker Hub's is wanted.
	p.e.c.Holds(ref.Context(), a.digest)
	return a
}

// Runs lists the CI runs anchored in the anchor repo, newest first: the
// one answer for `remerge runs` and the TUI's run picker. An anchor that
// is not a repository reference is a *name.ErrBadName in the chain.
func Runs(ctx context.Context, c *registry.Client, cfg release.Config) ([]release.AnchorRun, error) {
	r, err := c.Repository(cfg.Anchor)
	if err != nil {
		return nil, fmt.Errorf("anchor %s: %w", cfg.Anchor, err)
	}
	tags, err := c.Tags(ctx, r)
	if err != nil {
		// Classify keeps the cause (could not reach, denied) and drops
		// the https-then-http story around it, and with it the repo: say
		// which, once.
		return nil, fmt.Errorf("listing tags of %s: %s", cfg.Anchor, classText(err))
	}
	return release.RunsInTags(tags), nil
}
