package inspect

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
)

// tagVerdicts is what judging a backend's tags found beyond each tag's
// state: per target, whether its release tag is a complete image of other
// digests (a conflict: a person decides).
type tagVerdicts struct {
	conflict map[string]bool
}

// judgeTags settles every resolved tag of a backend with the one model of a
// published tag (manifest.Judge), fed by the cells just probed: a child
// whose probe failed makes the tag "could not tell", never "dangling". A
// tag naming other digests is read for its labels, to say what it holds;
// for latest they also say whether it is already ahead of this release.
//
// A leg whose digest could not be told (whyNot: a read that failed, an
// attested build's published list that cannot stand for its index) leaves
// a tag that is not complete could-not-tell, never stale: what it should
// name is not known.
func (p *prober) judgeTags(ctx context.Context, suffix string, spec release.BackendSpec, digests, whyNot []string, tags []pubTag) {
	want := make([]manifest.Expected, 0, len(spec.Legs))
	legOf := map[string]int{}
	known := 0
	var unread []string
	for i, l := range spec.Legs {
		var notIndex string // why an attested build's index was not read
		if digests[i] != "" {
			notIndex = p.unreadIndex(digests[i])
		}
		switch {
		case digests[i] == "" && whyNot[i] != "":
			unread = append(unread, whyNot[i])
		case digests[i] == "":
		case notIndex != "":
			// An attested build whose index could not be read: what it
			// puts in the list is not known.
			unread = append(unread, notIndex)
		default:
			want = append(want, manifest.ExpectedOf(digests[i], l.Platform, p.indexOf(digests[i]))...)
			legOf[digests[i]] = i
			known++
		}
	}
	cells := p.e.cellsOf(suffix)
	tv := tagVerdicts{conflict: map[string]bool{}}
	// Targets that count pulls last: labels they need were then read
	// where reading is free.
	tags = slices.Clone(tags)
	slices.SortStableFunc(tags, func(a, b pubTag) int {
		ca, cb := p.countsPulls(a.repo), p.countsPulls(b.repo)
		switch {
		case ca == cb:
			return 0
		case cb:
			return -1
		}
		return 1
	})
	for _, pub := range tags {
		st := pub.status
		if pub.m != nil {
			switch spec.Kind {
			case release.KindDarwin:
				st.State = release.TagComplete
			default:
				st = p.judgeTag(ctx, suffix, spec, pub, legsWanted{want, known}, func(d string) manifest.ChildState {
					if i, ok := legOf[d]; ok {
						return p.childState(pub.repo, d, cells[i][pub.repo])
					}
					return p.headChild(ctx, pub.repo, d)
				}, &tv)
				if len(unread) > 0 && st.State != release.TagComplete && !st.State.NotRead() {
					st.State, st.Reason = release.TagError, "could not tell: "+unread[0]
				}
				if st.State == release.TagComplete && !p.e.s.noSigs {
					st.Signature = p.signatureOf(ctx, pub.repo, *pub.m)
				}
			}
		}
		p.e.setTag(suffix, pub.target, pub.tag, st)
	}
	p.e.setConflicts(suffix, tv.conflict)
}

// legsWanted is what a release's list must name (want: each leg's
// digest, or every manifest of its attested build) and of how many legs
// that is known.
type legsWanted struct {
	want []manifest.Expected
	legs int
}

// judgeTag judges one resolved tag of a linux backend.
func (p *prober) judgeTag(ctx context.Context, suffix string, spec release.BackendSpec, pub pubTag, lw legsWanted, child func(string) manifest.ChildState, tv *tagVerdicts) release.TagStatus {
	st := pub.status
	j := manifest.Judge(*pub.m, lw.want, child)
	st.State, st.Reason, st.Form = release.TagState(j.State), j.Reason, j.Form
	if st.State == release.TagError && p.quotaSpent(pub.repo) {
		// Could not tell because the registry stopped answering for its
		// quota: unknown, with the cause and the way out.
		st.State, st.Error = release.TagUnknown, p.quotaText(pub.repo)
	}
	if !j.Foreign {
		return st
	}
	switch prov, err := p.provenanceOf(ctx, pub.repo, *pub.m); {
	case err != nil:
		p.e.addProblem(suffix, fmt.Sprintf("could not read what %s in %s holds (its image labels): %s", pub.tag, pub.target, classText(err)))
	case !prov.Empty():
		st.Provenance = &prov
	}
	switch pub.role {
	case release.RoleRelease, release.RoleBranch:
		if j.State != manifest.Stale || lw.legs < len(spec.Legs) {
			// Not knowing every expected digest, "other digests" is no
			// finding: never a conflict.
			return st
		}
		other, err := release.JudgeOther(pub.role, *pub.m, child)
		switch other {
		case release.OtherUnknown:
			// A child that did not answer is no leftover: could not tell.
			st.State, st.Reason = release.TagError, err.Error()
		case release.OtherConflict:
			tv.conflict[pub.target] = true
		case release.OtherBranchBuild:
			st.Newer = "another build of the branch"
			if st.Provenance != nil {
				st.Newer += " (" + st.Provenance.String() + ")"
			}
		}
	case release.RoleLatest, release.RoleSeries: // forward only (ForwardOnly)
		return p.judgeLatest(ctx, suffix, pub, st)
	}
	return st
}

// judgeLatest says whether a forward-only tag (latest, or a series tag)
// naming other digests already
// holds a newer release (fine) or is behind (stale). When that cannot be
// told (the labels do not say and the listing failed) the tag is could-
// not-tell with the registry's word, never stale.
func (p *prober) judgeLatest(ctx context.Context, suffix string, pub pubTag, st release.TagStatus) release.TagStatus {
	var prov manifest.Provenance
	if st.Provenance != nil {
		prov = *st.Provenance
	}
	repo, err := p.e.c.Repository(pub.repo)
	if err != nil {
		st.State, st.Reason = release.TagError, "could not tell whether it may move: "+err.Error()
		return st
	}
	newer, what, err := p.lister.NewerFor(ctx, p.e.c, p.e.s.cfg, repo, p.e.rep.Release, suffix, pub.tag, prov)
	switch {
	case err != nil:
		st.State, st.Reason = release.TagError, fmt.Sprintf("other digests; could not tell whether they are a newer release: listing %s: %s", pub.repo, classText(err))
	case newer:
		st.Newer = what
	}
	return st
}

// childState turns a leg's cell in repo into what the model asks.
func (p *prober) childState(repo, digest string, c release.Cell) manifest.ChildState {
	switch c.State {
	case release.CellPresent:
		p.mu.Lock()
		h, ok := p.heads[repo+"@"+digest]
		p.mu.Unlock()
		if !ok {
			h = manifest.ChildState{Presence: manifest.Present, Size: -1}
		}
		return h
	case release.CellMissing:
		return manifest.ChildState{Presence: manifest.Absent}
	case release.CellDenied, release.CellError:
		return manifest.ChildState{Presence: manifest.Unanswered, Err: c.Error}
	case release.CellUnknown:
		if c.Error != "" { // not asked: the registry's quota is spent
			return manifest.ChildState{Presence: manifest.Unanswered, Err: c.Error}
		}
	}
	return manifest.ChildState{Presence: manifest.NotProbed}
}

// headChild HEADs a child that is none of the release's legs (a tag naming
// other digests), once per repo and digest.
func (p *prober) headChild(ctx context.Context, repo, digest string) manifest.ChildState {
	p.mu.Lock()
	h, ok := p.heads[repo+"@"+digest]
	p.mu.Unlock()
	if ok {
		return h
	}
	c := p.probeCell(ctx, repo, digest)
	return p.childState(repo, digest, c)
}

// provenanceOf reads the labels of the image m as repo holds it. A digest
// names the same child manifest and config in every repo, and the
// client reads each digest's bytes once for the run (and keeps them on
// disk), so the second target asking costs no request; a read that fails
// (the child may be gone from that repo only) stays with that repo.
func (p *prober) provenanceOf(ctx context.Context, repo string, m manifest.Manifest) (manifest.Provenance, error) {
	r, err := p.e.c.Repository(repo)
	if err != nil {
		return manifest.Provenance{}, err
	}
	return published.ReadProvenance(ctx, p.e.c, r, m)
}

// recordHead keeps what a successful manifest HEAD answered.
func (p *prober) recordHead(repo, digest string, size int64, mediaType string) {
	p.mu.Lock()
	p.heads[repo+"@"+digest] = manifest.ChildState{Presence: manifest.Present, Size: size, MediaType: mediaType}
	p.mu.Unlock()
	p.sawRepo(repo)
}
