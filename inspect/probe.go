package inspect

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// ErrInput marks an inspection that cannot run on its input (a --run with no
// anchor at all): the CLI's exit code 2. errors.Is finds it; the message
// is the reason alone.
var ErrInput = errors.New("unusable input")

type inputError struct{ error }

func (inputError) Is(target error) bool { return target == ErrInput }

// prober runs the registry work of one inspection.
type prober struct {
	e      *engine
	anchor *anchorListing
	// cancel stops every probe when the input turns out unusable.
	cancel context.CancelFunc
	// lister lists a target's tags at most once, only when an image's
	// labels cannot say whether latest is behind.
	lister published.TagLister

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
	// indexes: a leg digest naming an attested build -> its index.
	indexes map[string]*manifest.Manifest
	// unread: a leg digest named as a list whose index could not be
	// read as an attested build -> why.
	unread map[string]string
	// sigs: "repo@digest" -> signature of a complete tag's image, once.
	sigs map[string]*sigLookup
	// seen: repos that answered 200 for something they hold (they exist).
	seen map[string]bool
	// identity is the signer identity a keyless signature must match,
	// compiled once (nil when the config's regex does not compile).
	identity *regexp.Regexp
}

func newProber(e *engine, cancel context.CancelFunc) *prober {
	return &prober{e: e, cancel: cancel, run: e.rep.Release.Run, heads: map[string]manifest.ChildState{}, indexes: map[string]*manifest.Manifest{}, unread: map[string]string{},
		identity: e.s.cfg.Signing.Identity()}
}

func (p *prober) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

func (p *prober) wait() { p.wg.Wait() }

// backend runs every probe of one backend, then judges it.
func (p *prober) backend(ctx context.Context, suffix string) {
	spec, tagRefs := p.specOf(suffix)
	// Published tags resolve in the background while digests are sought.
	pubs := make(chan []pubTag, 1)
	// Targets that count pulls wait until the list the merge should have
	// published is known (expectList), so its bytes need no GET there.
	ready := make(chan struct{})
	go func() { pubs <- p.resolveTags(ctx, spec, tagRefs, ready) }()

	digests, from, known, whyNot, entries := p.seekDigests(ctx, suffix, spec)
	p.expectList(entries)
	close(ready)
	var tags []pubTag
	gotTags := false
	for i, leg := range spec.Legs {
		if digests[i] != "" || whyNot[i] != "" || spec.Kind == release.KindDarwin {
			continue
		}
		if !gotTags {
			tags, gotTags = <-pubs, true
		}
		d, err := publishedDigest(spec.Kind, leg, tags, release.IsSemver(p.e.rep.Release.Ref))
		switch {
		case err != nil:
			whyNot[i] = err.Error()
		case d != "":
			digests[i], from[i] = d, release.FromPublished
		}
	}
	notBuilt := p.notBuilt(ctx, suffix, digests, whyNot)
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
	p.judgeTags(ctx, suffix, spec, digests, whyNot, tags)
	run, runErr := p.runID(ctx)
	absent := p.absentRepos()
	p.e.finish(suffix, func(b *release.BackendReport) {
		judge(b, judgeInput{cfg: p.e.s.cfg, run: run, runErr: runErr, anchor: p.e.s.cfg.Anchor, hadDigests: p.e.s.digests != nil,
			absent: absent, create: p.e.s.create, notBuilt: notBuilt})
	})
}

// seekDigests finds each leg's expected digest in the digests folder and
// the run's keepalive anchors, in that order: per leg the digest and where
// it came from, the repos known to hold it, why it could not be told, and
// the anchor's list entry for it.
func (p *prober) seekDigests(ctx context.Context, suffix string, spec release.BackendSpec) (digests []string, from []release.DigestSource, known []map[string]bool, whyNot []string, entries []*manifest.Descriptor) {
	digests = make([]string, len(spec.Legs))
	from = make([]release.DigestSource, len(spec.Legs))
	known = make([]map[string]bool, len(spec.Legs)) // repos known present
	whyNot = make([]string, len(spec.Legs))         // could not tell the digest
	entries = make([]*manifest.Descriptor, len(spec.Legs))
	for i, leg := range spec.Legs {
		known[i] = map[string]bool{}
		if p.e.s.digests != nil {
			if d := p.e.s.digests.Digests[suffix][leg.PlatformTag]; d != "" {
				digests[i], from[i] = d, release.FromDigests
			} else if why := p.e.s.digests.Unread(suffix); why != "" {
				whyNot[i] = why // an unread flat digest may be this leg's
			}
		}
		if spec.Kind == release.KindDarwin {
			continue
		}
		a := p.anchorLookup(ctx, suffix, leg)
		switch {
		case a.err != nil && digests[i] == "":
			// An error is never absence: no falling back to a published
			// list that may be another run's.
			whyNot[i] = a.err.Error()
		case a.err != nil: // the folder's digest stands; the failed check is said
			p.e.addProblem(suffix, fmt.Sprintf("%s digest from the digests folder not cross-checked with the keepalive anchor: %s", leg.PlatformTag, a.err))
		case a.digest == "":
		case digests[i] == "":
			digests[i], from[i] = a.digest, release.FromAnchor
			known[i][p.e.s.cfg.Anchor] = true
			entries[i] = a.entry
		case digests[i] == a.digest:
			known[i][p.e.s.cfg.Anchor] = true
			entries[i] = a.entry
		default:
			p.e.addProblem(suffix, fmt.Sprintf("%s digest disagreement: digests folder says %s, keepalive anchor %s says %s; using the digests folder",
				leg.PlatformTag, digests[i], a.tag, a.digest))
		}
	}
	return digests, from, known, whyNot, entries
}

// expectList computes the list the merge publishes over the legs' anchor
// entries, as buildx writes it, and gives its bytes to the client: when a
// target's release tag names that digest (a healthy or re-merged backend),
// its bytes are known without a GET, in Docker Hub too. Nothing is
// computed unless every leg has an entry.
func (p *prober) expectList(entries []*manifest.Descriptor) {
	descs := make([]manifest.Descriptor, 0, len(entries))
	for _, e := range entries {
		if e == nil {
			return
		}
		descs = append(descs, *e)
	}
	raw, _, _, err := manifest.ListOf(descs, p.e.s.cfg.Merge.Options())
	if err == nil {
		p.e.c.Remember(raw)
	}
}

// notBuilt says why a backend of a branch release was not built by the run
// ("" when it was, or when that cannot be told): none of its legs has a
// digest from the run's anchors, the digests folder or the commit's sha-
// tag, and every lookup answered. Master pushes are path-filtered, so most
// backends of a branch run are like this.
func (p *prober) notBuilt(ctx context.Context, suffix string, digests, whyNot []string) string {
	if release.IsSemver(p.e.rep.Release.Ref) || len(digests) == 0 {
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
	// The commit's sha tag tells only where the pipeline writes one.
	shaTag := p.e.rep.Release.SHA != "" && p.e.s.cfg.Tags.SHA != ""
	if shaTag {
		from = append(from, "no sha- tag for the commit")
	}
	if p.e.s.digests == nil && !shaTag {
		// A good merge deletes its anchors: without the commit's sha- tag
		// or the digests folder, a built backend looks the same.
		return ""
	}
	return "not built in this run: " + strings.Join(from, ", ")
}

// specOf returns the immutable facts of a backend, read once under the lock.
func (p *prober) specOf(suffix string) (release.BackendSpec, []release.TagRef) {
	p.e.mu.Lock()
	defer p.e.mu.Unlock()
	b := p.e.backends[suffix]
	spec := release.BackendSpec{Suffix: suffix, Kind: b.Kind}
	for _, l := range b.Legs {
		spec.Legs = append(spec.Legs, release.LegSpec{PlatformTag: l.PlatformTag, Platform: l.Platform})
	}
	return spec, p.e.tagsFor(b)
}

func classText(err error) string {
	_, msg := registry.Classify(err)
	return msg
}
