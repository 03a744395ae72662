package repair

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// SourceKind says how a child reaches the target.
type SourceKind string

// Source kinds, cheapest first.
const (
	// SourceTarget: the target already holds the child manifest and blobs.
	SourceTarget SourceKind = "target"
	// SourceMount: another repo on the same registry holds it; the manifest
	// is copied and missing blobs are cross-repo mounted (no bytes move).
	SourceMount SourceKind = "mount"
	// SourceCopy: only another registry holds it; missing blob bytes are
	// streamed across.
	SourceCopy SourceKind = "copy"
)

// Blob is a config or layer blob a child needs in the target.
type Blob struct {
	Digest    string
	Size      int64
	MediaType string
	// Missing is true when the target did not link the blob at plan time.
	Missing bool
}

// LegPlan is how one child reaches the target.
type LegPlan struct {
	PlatformTag string
	// Platform is the normalised os/arch[/variant] read from the config,
	// as the list will state it.
	Platform  string
	Digest    string
	MediaType string
	Size      int64
	// Source is the repo (as written in the config) the child is read from;
	// the target itself for SourceTarget.
	Source string
	Kind   SourceKind
	// Blobs are the config, then the layers, in manifest order.
	Blobs []Blob
	// Raw is the child manifest exactly as the source served it.
	Raw []byte
	// Skipped are sources that hold the child but failed to give it, and
	// why: the plan went on to the next one.
	Skipped []string
	// Parts, for a child that is an attested build's index, are the
	// manifests it names (the image, its attestation manifests), each
	// with its blobs, read from the same source: they reach the target
	// before the index, and the list names them.
	Parts []LegPlan
}

// MissingBlobs counts the blobs the target lacked at plan time and their
// bytes, an attested build's parts included.
func (l LegPlan) MissingBlobs() (n int, size int64) {
	for _, b := range l.Blobs {
		if b.Missing {
			n++
			size += b.Size
		}
	}
	for _, p := range l.Parts {
		pn, ps := p.MissingBlobs()
		n, size = n+pn, size+ps
	}
	return n, size
}

// allBlobs counts the blobs the child needs, its parts' included.
func (l LegPlan) allBlobs() int {
	n := len(l.Blobs)
	for _, p := range l.Parts {
		n += p.allBlobs()
	}
	return n
}

// TagMove is one tag of the release in the target.
type TagMove struct {
	Tag  string
	Role string
	// From is the digest the tag pointed to at plan time, "" when missing.
	From string
	// To is the digest it will point to (the plan's ListDigest).
	To string
	// Skip, when not empty, says why the tag is left alone.
	Skip string
	// Same: left alone as it already names this release's image (complete
	// with the same children); --sign may sign it. Another build never is.
	Same bool
}

// Pending reports whether Execute will write the tag.
func (t TagMove) Pending() bool { return t.Skip == "" && t.From != t.To }

// Plan is everything a re-merge of one backend into one target will do,
// computed without writing anything: the dry run prints it, Execute runs it.
type Plan struct {
	Release release.Release
	Suffix  string
	Name    string
	Kind    release.Kind
	// Target is the target's name in the config; Repo its repository.
	Target string
	Repo   string

	Legs []LegPlan
	// List is what is published under the tags: the manifest list bytes
	// (a one-entry list over a single leg, as buildx --prefer-index
	// writes), or with merge.prefer_index false the child itself.
	List          []byte
	ListMediaType string
	ListDigest    string
	Tags          []TagMove

	// Force records that the plan was made with WithForce.
	Force bool
	// NoOp: every tag already points to the planned image (or is left alone
	// for a stated reason) and every child is in the target.
	NoOp bool
	// SignOnly: a no-op plan made WithSign whose complete release tag is
	// unsigned, or names an unsigned child (NeedsSignature): Execute signs
	// it, as CI would have, and writes nothing else.
	SignOnly bool
	// Refusal, when not empty, says why this backend is not re-merged here;
	// the rest of the plan may be partial.
	Refusal string
	// Warnings are findings that do not stop the plan (e.g. a config whose
	// platform is not the matrix's).
	Warnings []string

	// checked is when the plan read the target's blobs.
	checked time.Time
}

// NewPlan works out how to re-merge backend b of release rel into the target
// named target. It only reads from registries (HEAD, GET, tag lists): the
// dry run is NewPlan plus printing. A plan that must not run comes back with
// Refusal set and a nil error; errors are failures to read.
func NewPlan(ctx context.Context, c *registry.Client, cfg release.Config, rel release.Release, b *release.BackendReport, target string, opts ...Option) (*Plan, error) {
	o := makeOptions(opts)
	t, ok := cfg.Target(target)
	if !ok {
		return nil, fmt.Errorf("planning %s: no target named %q in the configuration", b.Suffix, target)
	}
	p := &Plan{Release: rel, Suffix: b.Suffix, Name: b.Name, Kind: b.Kind, Target: t.Name, Repo: t.Repo, Force: o.force}
	if p.Refusal = refusal(b, t.Name, o.force); p.Refusal != "" {
		return p, nil
	}
	if ts := b.Targets[t.Name]; ts != nil && ts.RepoAbsent != "" && !o.create[t.Name] {
		p.Refusal = fmt.Sprintf("%s; nothing is written there: fix the name in the config, or pass --create-target %s to create it on purpose", ts.RepoAbsent, t.Name)
		return p, nil
	}
	dst, err := c.Repository(t.Repo)
	if err != nil {
		return nil, fmt.Errorf("planning %s: target %s: %w", b.Suffix, t.Repo, err)
	}
	p.checked = time.Now()
	var children []manifest.Child
	for _, leg := range b.Legs {
		lp, child, why, err := planLeg(ctx, c, cfg, dst, t.Repo, leg, o.fresh)
		if err != nil {
			return nil, fmt.Errorf("planning %s %s: %w", b.Suffix, leg.PlatformTag, err)
		}
		if why != "" {
			p.Refusal = why
			return p, nil
		}
		for _, sk := range lp.Skipped {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s child: passed over %s", leg.PlatformTag, sk))
		}
		if leg.Platform != "" && lp.Platform != leg.Platform {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s child %s says %s in its config; the matrix says %s", leg.PlatformTag, short(leg.Digest), lp.Platform, leg.Platform))
		}
		p.Legs = append(p.Legs, lp)
		children = append(children, child)
	}
	p.List, p.ListMediaType, p.ListDigest, err = manifest.Merge(children, cfg.Merge.Options())
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", b.Suffix, err)
	}
	if err := planTags(ctx, c, cfg, rel, p, dst, b.Targets[t.Name], o); err != nil {
		return nil, fmt.Errorf("planning %s tags in %s: %w", b.Suffix, t.Repo, err)
	}
	p.NoOp = p.Refusal == "" && p.healthy()
	p.SignOnly = p.NoOp && o.signer != nil && NeedsSignature(b, t.Name)
	return p, nil
}

// candidates lists the repos that may hold a leg's child, best first: the
// target, then repos on the target's registry, then other registries; each
// group in configuration order, then any other repo of the report.
func candidates(cfg release.Config, targetRepo string, leg release.Leg) []string {
	host := registry.Host(targetRepo)
	var order []string
	seen := map[string]bool{}
	for _, r := range cfg.Repos() {
		order = append(order, r.Repo)
		seen[r.Repo] = true
	}
	var extra []string
	for r := range leg.Cells {
		if !seen[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(extra)
	order = append(order, extra...)

	var same, other []string
	for _, r := range order {
		cell, ok := leg.Cells[r]
		if r == targetRepo || !ok || cell.State != release.CellPresent || len(cell.MissingBlobs) > 0 {
			continue
		}
		if registry.Host(r) == host {
			same = append(same, r)
		} else {
			other = append(other, r)
		}
	}
	return append(same, other...)
}

// planLeg chooses the source of one child and reads its manifest and
// config. why is a refusal (the child is present nowhere usable). A source
// that fails to answer is passed over for the next one that holds the
// child; only when none answers is the error returned.
func planLeg(ctx context.Context, c *registry.Client, cfg release.Config, dst name.Repository, targetRepo string, leg release.Leg, fresh bool) (LegPlan, manifest.Child, string, error) {
	lp := LegPlan{PlatformTag: leg.PlatformTag, Digest: leg.Digest}
	inTarget, err := legInTarget(ctx, c, dst, leg.Cells[targetRepo], leg.Digest, fresh)
	if err != nil {
		return lp, manifest.Child{}, "", err
	}
	var sources []string
	if inTarget {
		sources = append(sources, targetRepo)
	}
	sources = append(sources, candidates(cfg, targetRepo, leg)...)
	if len(sources) == 0 {
		return lp, manifest.Child{}, fmt.Sprintf("%s child %s is present in no repository: it needs a rebuild", leg.PlatformTag, short(leg.Digest)), nil
	}
	var (
		lost []string
		errs []error
	)
	for _, src := range sources {
		got, child, lostHere, err := readSource(ctx, c, dst, src, leg)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", src, err))
			continue
		}
		if src == targetRepo && len(lostHere) > 0 {
			// The manifest is there but a blob link is gone: look for a
			// repo that can give the blob back.
			lost = lostHere
			continue
		}
		for _, e := range errs {
			got.Skipped = append(got.Skipped, registry.Redact(e.Error()))
		}
		return got, child, "", nil
	}
	if len(errs) > 0 {
		return lp, manifest.Child{}, "", errors.Join(errs...)
	}
	return lp, manifest.Child{}, fmt.Sprintf("%s child %s is in the target but blobs %v are lost there and no other repository holds the child", leg.PlatformTag, short(leg.Digest), lost), nil
}

// legInTarget says whether the target holds a leg's child, from the
// report when it can: a child the report saw there is read from there
// next (that GET confirms it, and a child gone since is passed over for
// the next source), and with a fresh report a child it did not see is not
// asked for again. Otherwise the target is asked: a report taken before a
// repair must not make the next plan redo it.
func legInTarget(ctx context.Context, c *registry.Client, dst name.Repository, cell release.Cell, digest string, fresh bool) (bool, error) {
	switch {
	case cell.State == release.CellPresent:
		return true, nil
	case cell.State == release.CellMissing && fresh:
		return false, nil
	}
	d, err := headManifest(ctx, c, dst.Digest(digest))
	return d != nil, err
}

// readSource reads a leg's child from one source repo: its manifest, its
// platform from the config, and which of its blobs the target lacks.
func readSource(ctx context.Context, c *registry.Client, dst name.Repository, src string, leg release.Leg) (LegPlan, manifest.Child, []string, error) {
	lp := LegPlan{PlatformTag: leg.PlatformTag, Digest: leg.Digest}
	repo, err := c.Repository(src)
	if err != nil {
		return lp, manifest.Child{}, nil, err
	}
	raw, mt, err := getManifest(ctx, c, repo.Digest(leg.Digest))
	if err != nil {
		return lp, manifest.Child{}, nil, err
	}
	m, err := manifest.Parse(raw, mt, leg.Digest)
	if err != nil {
		return lp, manifest.Child{}, nil, fmt.Errorf("child %s: %w", short(leg.Digest), err)
	}
	lp.Source, lp.Raw, lp.MediaType, lp.Size = src, raw, mt, int64(len(raw))
	lp.Kind = sourceKind(src, repo, dst)
	if m.IsList() {
		return readAttested(ctx, c, dst, repo, lp, m)
	}
	config, err := published.ReadConfig(ctx, c, repo, m.Config.Digest)
	if err != nil {
		return lp, manifest.Child{}, nil, err
	}
	plat, err := manifest.ConfigPlatform(config)
	if err != nil {
		return lp, manifest.Child{}, nil, fmt.Errorf("child %s: %w", short(leg.Digest), err)
	}
	var lost []string
	if lp.Blobs, lost, err = targetBlobs(ctx, c, dst, m); err != nil {
		return lp, manifest.Child{}, nil, err
	}
	lp.Platform = manifest.PlatformString(plat)
	return lp, manifest.Child{PlatformTag: leg.PlatformTag, Digest: leg.Digest, MediaType: mt, Raw: raw, Platform: plat}, lost, nil
}

// healthy reports whether there is nothing to write.
func (p *Plan) healthy() bool {
	for _, l := range p.Legs {
		if l.Kind != SourceTarget {
			return false
		}
	}
	return !slices.ContainsFunc(p.Tags, TagMove.Pending)
}

// short abbreviates a digest for prose (manifest.Short: sha256: and 12 hex).
func short(d string) string { return manifest.Short(d) }
