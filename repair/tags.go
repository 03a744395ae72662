package repair

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/dustin/go-humanize"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// planTags fills p.Tags: where each tag of the release points now, and
// whether it may move. Each tag is read fresh (a HEAD): the world may have
// changed since the inspection. A tag pointing elsewhere is judged by the
// one model inspect uses (manifest.Judge): complete for this release stays,
// a complete image of other digests is a conflict (refused without force),
// anything else is broken and is replaced. latest only moves forward, force
// or not: the image under it says by its labels which release it is, and
// only when they cannot tell is the target's tag listing read, at most once
// per TagLister.
//
// What the report already judged is not read again: a latest tag whose
// fresh HEAD names the digest the report found stale, with labels, is
// judged from the report (its list and labels are not fetched again).
func planTags(ctx context.Context, c *registry.Client, cfg release.Config, rel release.Release, p *Plan, dst name.Repository, seen *release.TargetStatus, o options) error {
	want := make([]manifest.Expected, 0, len(p.Legs))
	for _, l := range p.Legs {
		want = append(want, l.expected()...)
	}
	for _, r := range cfg.ReleaseTags(rel, p.Suffix) {
		tm := TagMove{Tag: r.Tag, Role: r.Role, To: p.ListDigest}
		d, err := headManifest(ctx, c, dst.Tag(r.Tag))
		if err != nil {
			return err
		}
		if d != nil {
			tm.From = d.Digest.String()
		}
		if tm.From == "" || tm.From == tm.To {
			p.Tags = append(p.Tags, tm)
			continue
		}
		var (
			m    manifest.Manifest
			j    manifest.Judgement
			prov *manifest.Provenance
		)
		if st, ok := reported(seen, r, tm.From); ok {
			j, prov = manifest.Judgement{State: manifest.Stale, Form: st.Form, Reason: st.Reason, Foreign: true}, st.Provenance
		} else if m, j, err = judgePublished(ctx, c, dst, tm.From, want); err != nil {
			return err
		}
		switch {
		case j.State == manifest.Complete:
			tm.Skip = fmt.Sprintf("already complete with the same children (%s %s)", j.Form, short(tm.From))
			tm.Same = true
		case j.State == manifest.Unknown:
			return fmt.Errorf("tag %s points to %s: %s", r.Tag, short(tm.From), j.Reason)
		case release.ForwardOnly(r.Role) && j.Foreign:
			if prov == nil {
				read, err := published.ReadProvenance(ctx, c, dst, m)
				if err != nil && !registry.IsNotFound(err) {
					return fmt.Errorf("reading what %s holds: %w", r.Tag, err)
				}
				prov = &read
			}
			newer, what, err := o.tags.NewerFor(ctx, c, cfg, dst, rel, p.Suffix, r.Tag, *prov)
			if err != nil {
				return fmt.Errorf("deciding whether %s may move: %w", r.Tag, err)
			}
			if newer {
				tm.Skip = fmt.Sprintf("it holds a newer release (%s); %s only moves forward", what, r.Role)
			}
		case j.Foreign && j.State == manifest.Stale && !p.Force && (r.Role == release.RoleBranch || p.Refusal == ""):
			// Another image, judged as inspect judges it (JudgeOther): a
			// leftover is safe to replace, so its children are asked
			// about only here.
			switch other, err := release.JudgeOther(r.Role, m, headChild(ctx, c, dst)); other {
			case release.OtherUnknown:
				return err
			case release.OtherBranchBuild:
				// A complete build under the branch tag may be a newer
				// one. Only force moves it.
				tm.Skip = fmt.Sprintf("it holds another complete build of the branch (%s); --force moves it", short(tm.From))
			case release.OtherConflict:
				p.Refusal = fmt.Sprintf("%s points to a complete image of other digests (%s); re-run with force to replace it", r.Tag, short(tm.From))
			}
		}
		p.Tags = append(p.Tags, tm)
	}
	return nil
}

// reported returns the report's judgement of tag r when it can stand for
// a new one: latest, still naming the digest the report judged stale
// (other digests: no child of this release, so none to ask about), with
// the labels the report read from it.
func reported(seen *release.TargetStatus, r release.TagRef, digest string) (release.TagStatus, bool) {
	if seen == nil || !release.ForwardOnly(r.Role) {
		return release.TagStatus{}, false
	}
	st, ok := seen.Tags[r.Tag]
	ok = ok && st.Digest == digest && st.State == release.TagStale && st.Provenance != nil && !st.Provenance.Empty()
	return st, ok
}

// judgePublished reads what a tag points to in dst and judges it against
// the release's children, HEADing each child it names there.
func judgePublished(ctx context.Context, c *registry.Client, dst name.Repository, dgst string, want []manifest.Expected) (manifest.Manifest, manifest.Judgement, error) {
	raw, mt, err := getManifest(ctx, c, dst.Digest(dgst))
	if err != nil {
		return manifest.Manifest{}, manifest.Judgement{}, err
	}
	m, err := manifest.Parse(raw, mt, dgst)
	if err != nil {
		// The judgement inspect gives it too: could not tell, refused.
		return manifest.Manifest{Digest: dgst, MediaType: mt}, manifest.Unparseable(err), nil
	}
	return m, manifest.Judge(m, want, headChild(ctx, c, dst)), nil
}

// headChild is the child probe the judges ask: a HEAD of each child in dst.
func headChild(ctx context.Context, c *registry.Client, dst name.Repository) func(string) manifest.ChildState {
	return func(child string) manifest.ChildState {
		d, err := headManifest(ctx, c, dst.Digest(child))
		switch {
		case err != nil:
			return manifest.ChildState{Presence: manifest.Unanswered, Err: registry.Redact(err.Error())}
		case d == nil:
			return manifest.ChildState{Presence: manifest.Absent}
		}
		return manifest.ChildState{Presence: manifest.Present, Size: d.Size, MediaType: string(d.MediaType)}
	}
}

// String is the plan as a person reads it before saying yes: where every
// child comes from and what moves, which tags move and which stay, and the
// digest that will be published.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "re-merge %s (%s) into %s (%s)\n", p.Suffix, p.Release.Ref, p.Target, p.Repo)
	if p.Refusal != "" {
		fmt.Fprintf(&b, "  refused: %s\n", p.Refusal)
		return b.String()
	}
	for _, l := range p.Legs {
		fmt.Fprintf(&b, "  %-6s %s %-14s %s\n", l.PlatformTag, short(l.Digest), l.Platform, legAction(l))
	}
	what := "list"
	switch {
	case !manifest.IsList(p.ListMediaType):
		what = "image (single source, published as itself: merge.prefer_index is false)"
	case len(p.Legs) == 1:
		what = "one-entry list"
	}
	fmt.Fprintf(&b, "  %s %s %s, %d bytes\n", what, p.ListDigest, p.ListMediaType, len(p.List))
	for _, t := range p.Tags {
		from := "missing"
		if t.From != "" {
			from = short(t.From)
		}
		switch {
		case t.Skip != "":
			fmt.Fprintf(&b, "  tag %s: left at %s: %s\n", t.Tag, from, t.Skip)
		case !t.Pending():
			fmt.Fprintf(&b, "  tag %s: already %s\n", t.Tag, short(t.To))
		default:
			fmt.Fprintf(&b, "  tag %s: %s -> %s\n", t.Tag, from, short(t.To))
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	if p.NoOp && p.SignOnly {
		b.WriteString("  nothing to re-merge: already healthy, but unsigned; it is signed with cosign, as CI does\n")
	} else if p.NoOp {
		b.WriteString("  nothing to do: already healthy\n")
	}
	return b.String()
}

func legAction(l LegPlan) string {
	n, size := l.MissingBlobs()
	what := "manifest"
	if len(l.Parts) > 0 {
		what = fmt.Sprintf("index and its %d manifests", len(l.Parts))
	}
	switch {
	case l.Kind == SourceTarget:
		return "already in the target"
	case n == 0:
		return "copy " + what + " from " + l.Source + "; blobs already there"
	case l.Kind == SourceMount:
		return fmt.Sprintf("copy %s from %s; mount %d of %d blobs (%s, no bytes move)", what, l.Source, n, l.allBlobs(), humanize.IBytes(uint64(size)))
	default:
		return fmt.Sprintf("copy %s from %s; copy %d of %d blobs (%s)", what, l.Source, n, l.allBlobs(), humanize.IBytes(uint64(size)))
	}
}

// ListJSON returns the bytes that will be published under the tags (the
// manifest list, or for a single source the manifest itself), exactly: the
// dry run prints them so a person can diff them against CI's.
func (p *Plan) ListJSON() []byte {
	return append([]byte(nil), p.List...)
}
