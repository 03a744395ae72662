package repair

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
)

// planTags fills p.Tags: where each tag of the release points now, and
// whether it may move. It may set p.Refusal (a tag holding a complete image
// of other digests, without force).
func planTags(ctx context.Context, c *registry.Client, cfg inspect.Config, rel inspect.Release, p *Plan, dst name.Repository) error {
	want := map[string]bool{}
	for _, l := range p.Legs {
		want[l.Digest] = true
	}
	var tags []string
	tagsRead := false
	for _, r := range cfg.ReleaseTags(rel, p.Suffix) {
		tm := TagMove{Tag: r.Tag, Role: r.Role, To: p.ListDigest}
		d, err := headManifest(ctx, c, dst.Tag(r.Tag))
		if err != nil {
			return err
		}
		if d != nil {
			tm.From = d.Digest.String()
		}
		if tm.From == tm.To {
			p.Tags = append(p.Tags, tm)
			continue
		}
		if r.Role == inspect.RoleLatest {
			if !tagsRead {
				if tags, err = listTags(ctx, c, dst); err != nil {
					return err
				}
				tagsRead = true
			}
			if newer := cfg.NewerRelease(rel, p.Suffix, tags); newer != "" {
				tm.Skip = fmt.Sprintf("the target holds a newer release (%s); latest only moves forward", newer)
				p.Tags = append(p.Tags, tm)
				continue
			}
		}
		if tm.From != "" {
			complete, children, err := published(ctx, c, dst, tm.From)
			if err != nil {
				return err
			}
			switch {
			case complete && sameSet(children, want):
				tm.Skip = fmt.Sprintf("already complete with the same children (%s)", short(tm.From))
			case complete && foreign(children, want) && r.Role != inspect.RoleLatest && !p.Force && p.Refusal == "":
				// Only a child that is not this release's makes it another
				// image (inspect's conflict): a list naming a subset of our
				// own children is this release's unfinished merge, safe to
				// complete. latest pointing at an older release's complete
				// list is the normal stale case; NewerRelease above guards
				// its direction.
				p.Refusal = fmt.Sprintf("%s points to a complete image of other digests (%s); re-run with force to replace it", r.Tag, short(tm.From))
			}
		}
		p.Tags = append(p.Tags, tm)
	}
	return nil
}

// published reads what a tag points to in dst: the child digests (a plain
// manifest is its own only child) and whether every child is present there.
func published(ctx context.Context, c *registry.Client, dst name.Repository, dgst string) (complete bool, children []string, err error) {
	raw, mt, err := getManifest(ctx, c, dst.Digest(dgst))
	if err != nil {
		return false, nil, err
	}
	if !IsList(mt) {
		return true, []string{dgst}, nil
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return false, nil, fmt.Errorf("reading list %s in %s: %w", dgst, dst, err)
	}
	complete = true
	for _, m := range idx.Manifests {
		children = append(children, m.Digest)
		d, err := headManifest(ctx, c, dst.Digest(m.Digest))
		if err != nil {
			return false, nil, err
		}
		if d == nil {
			complete = false
		}
	}
	return complete, children, nil
}

// foreign reports whether a published list names a child that is not one of
// the release's expected children.
func foreign(got []string, want map[string]bool) bool {
	for _, g := range got {
		if !want[g] {
			return true
		}
	}
	return false
}

func sameSet(got []string, want map[string]bool) bool {
	seen := map[string]bool{}
	for _, g := range got {
		if !want[g] {
			return false
		}
		seen[g] = true
	}
	return len(seen) == len(want)
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
	if !IsList(p.ListMediaType) {
		what = "image (single source, published as itself)"
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
	if p.NoOp {
		b.WriteString("  nothing to do: already healthy\n")
	}
	return b.String()
}

func legAction(l LegPlan) string {
	n, size := l.MissingBlobs()
	switch l.Kind {
	case SourceTarget:
		return "already in the target"
	case SourceMount:
		return fmt.Sprintf("copy manifest from %s; mount %d of %d blobs (%s, no bytes move)", l.Source, n, len(l.Blobs), humanize.IBytes(uint64(size)))
	default:
		return fmt.Sprintf("copy manifest from %s; copy %d of %d blobs (%s)", l.Source, n, len(l.Blobs), humanize.IBytes(uint64(size)))
	}
}

// ListJSON returns the bytes that will be published under the tags (the
// manifest list, or for a single source the manifest itself), exactly: the
// dry run prints them so a person can diff them against CI's.
func (p *Plan) ListJSON() []byte {
	return append([]byte(nil), p.List...)
}
