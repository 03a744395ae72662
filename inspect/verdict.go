package inspect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-skynet/remerge/internal/manifest"
)

// judgeInput is what judge needs beyond the backend itself.
type judgeInput struct {
	cfg        Config
	run        string
	runErr     error
	anchor     string
	hadDigests bool
	// absent: repos that do not exist, and why; create: target names the
	// caller means to create (WithCreateTargets).
	absent map[string]string
	create map[string]bool
}

// judge settles the verdict, problems and impact of a backend whose probes
// have all answered and whose tags are judged (judgeTags).
func judge(b *BackendReport, in judgeInput) {
	markAbsent(b, in)
	if b.Kind == KindDarwin {
		judgeDarwin(b, in)
		return
	}
	if b.notBuilt != "" {
		b.Verdict = VerdictNotBuilt
		b.Problems = append(b.Problems, b.notBuilt)
		return
	}
	var (
		unknownLegs, nowhere, unchecked []string
		// broken: something is determined not complete. Only that is
		// repairable: a target repo or tag that did not answer (an outage)
		// is not a broken release, and leaves the verdict unknown.
		broken bool
	)
	for _, l := range b.Legs {
		if l.Digest == "" && l.DigestError != "" {
			unchecked = append(unchecked, l.PlatformTag)
			b.Problems = append(b.Problems, fmt.Sprintf("no digest known for %s: %s", l.PlatformTag, l.DigestError))
			continue
		}
		if l.Digest == "" {
			unknownLegs = append(unknownLegs, l.PlatformTag)
			continue
		}
		present := presentRepos(l, in.cfg)
		if len(present) == 0 && cellErrors(l) != "" {
			unchecked = append(unchecked, l.PlatformTag)
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest %s is in no repo that answered; the others could not be checked%s: whether it needs a rebuild is unknown",
				l.PlatformTag, short(l.Digest), strings.TrimPrefix(cellErrors(l), " that answered")))
			continue
		}
		if len(present) == 0 {
			nowhere = append(nowhere, l.PlatformTag)
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest %s is present in no repo%s: rebuild %s for %s",
				l.PlatformTag, short(l.Digest), cellErrors(l), b.Suffix, l.Platform))
			continue
		}
		if legInTargets(b, l, present, in.cfg) {
			broken = true
		}
	}
	if len(unknownLegs) > 0 {
		b.Problems = append(b.Problems, fmt.Sprintf("no digest known for %s: %s", strings.Join(unknownLegs, ", "), whyNoDigest(in)))
	}
	healthy, tagsBroken, conflict := judgeTargets(b, in)
	broken = broken || tagsBroken
	judgeSignatures(b, in.cfg)
	switch {
	case len(unknownLegs) > 0:
		b.Verdict = VerdictUnknown
	case conflict:
		b.Verdict = VerdictConflict
	case len(nowhere) > 0:
		b.Verdict = VerdictUnrepairable
	case len(unchecked) > 0:
		b.Verdict = VerdictUnknown
	case healthy:
		b.Verdict = VerdictOK
	case broken:
		b.Verdict = VerdictRepairable
	default: // only unanswered probes stand between it and ok
		b.Verdict = VerdictUnknown
	}
}

// legInTargets says what a leg present somewhere is in each target: a
// reaped child, or one whose blobs are not linked, is broken (true); a
// probe that did not answer is only said.
func legInTargets(b *BackendReport, l Leg, present []string, cfg Config) (broken bool) {
	for _, t := range cfg.Targets {
		c := l.Cells[t.Repo]
		switch c.State {
		case CellMissing:
			broken = true
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest reaped from %s; still in %s", l.PlatformTag, t.Repo, strings.Join(present, " and ")))
		case CellDenied, CellError, CellUnknown:
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest in %s: %s (%s)", l.PlatformTag, t.Repo, c.State, c.Error))
		case CellPresent:
			if len(c.MissingBlobs) > 0 {
				broken = true
				b.Problems = append(b.Problems, fmt.Sprintf("%s manifest in %s names %d blob(s) not linked there: %s",
					l.PlatformTag, t.Repo, len(c.MissingBlobs), strings.Join(manifest.ShortAll(c.MissingBlobs), ", ")))
			}
		}
	}
	return broken
}

// judgeTargets judges every tag of b in every target: healthy when all is
// complete (or moved on) and every child is present there, broken when
// something is determined not complete, conflict when a release tag holds
// a complete image of other digests. It writes the problems, the impact
// and each user-facing tag's UserImpact.
func judgeTargets(b *BackendReport, in judgeInput) (healthy, broken, conflict bool) {
	healthy = true
	for _, name := range targetNames(in.cfg, b) {
		ts := b.Targets[name]
		if ts.RepoAbsent != "" && !in.create[name] {
			// A setup mistake, said once: nothing in it is judged.
			healthy = false
			b.Problems = append(b.Problems, fmt.Sprintf("%s: not judged: %s", name, ts.RepoAbsent))
			continue
		}
		if ts.Conflict {
			conflict = true
			rt := ts.ReleaseTag()
			b.Problems = append(b.Problems, fmt.Sprintf("%s in %s already points to a complete image of other digests (%s%s): another run? decide, then repair with --force",
				rt, name, short(ts.Tags[rt].Digest), holds(ts.Tags[rt])))
		}
		for _, tag := range ts.SortedTags() {
			st := ts.Tags[tag]
			if st.State == TagComplete {
				continue
			}
			if (st.Role == RoleLatest || st.Role == RoleBranch) && st.Newer != "" {
				continue // latest (or the branch) already moved on: fine
			}
			healthy = false
			// A tag judged not complete is broken; one that could not be
			// read or judged (a registry that did not answer) is not known
			// to be.
			if !notRead(st.State) {
				broken = true
			}
			desc := describeTag(st)
			b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: %s", tag, name, desc))
			if st.Role == RoleLatest || st.Role == RoleBranch {
				st.UserImpact = impactOf(st)
				ts.Tags[tag] = st
				b.Impact = append(b.Impact, fmt.Sprintf("%s in %s: %s", tag, name, st.UserImpact))
			}
		}
		for _, l := range b.Legs {
			if c := l.Cells[ts.Repo]; c.State != CellPresent || len(c.MissingBlobs) > 0 {
				healthy = false
			}
		}
	}
	return healthy, broken, conflict
}

// judgeDarwin: darwin images are pushed tagged by their build; remerge
// shows them and never merges them.
func judgeDarwin(b *BackendReport, in judgeInput) {
	b.Verdict = VerdictOK
	for _, name := range targetNames(in.cfg, b) {
		ts := b.Targets[name]
		rt := ts.ReleaseTag()
		switch st := ts.Tags[rt]; st.State {
		case TagComplete:
		case TagMissing:
			b.Verdict = VerdictUnrepairable
			b.Problems = append(b.Problems, fmt.Sprintf("%s missing in %s: darwin images are pushed by their build, not merged; re-run the darwin build", rt, name))
			st.UserImpact = "missing"
			ts.Tags[rt] = st
			b.Impact = append(b.Impact, fmt.Sprintf("%s in %s: %s", rt, name, st.UserImpact))
		default:
			if b.Verdict == VerdictOK {
				b.Verdict = VerdictUnknown
			}
			b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: %s", rt, name, describeTag(st)))
		}
	}
}

func describeTag(st TagStatus) string {
	switch st.State {
	case TagStale:
		return fmt.Sprintf("stale (points to %s, other digests%s)", short(st.Digest), holds(st))
	case TagPartial, TagDangling, TagBroken:
		return fmt.Sprintf("%s (%s %s %s%s)", st.State, st.Form, short(st.Digest), st.Reason, holds(st))
	case TagDenied, TagError, TagUnknown:
		why := st.Error
		if why == "" {
			why = st.Reason
		}
		return fmt.Sprintf("%s (%s)", st.State, why)
	default:
		return string(st.State)
	}
}

// holds says what an image of other digests is, from its labels:
// "; holds v4.2.1-cpu-whisper, commit 1a2b3c4".
func holds(st TagStatus) string {
	if st.Provenance == nil || st.Provenance.Empty() {
		return ""
	}
	return "; holds " + st.Provenance.String()
}

func impactOf(st TagStatus) string {
	switch st.State {
	case TagMissing:
		return "missing: installs fail with MANIFEST_UNKNOWN"
	case TagStale:
		if st.Provenance != nil && !st.Provenance.Empty() {
			return "stale: users silently get " + st.Provenance.String()
		}
		return "stale: users silently get the previous image"
	case TagDangling:
		return "dangling: pulls fail for the missing platform"
	case TagBroken:
		return "broken: pulls fail"
	default:
		return string(st.State)
	}
}

func whyNoDigest(in judgeInput) string {
	var why []string
	if in.hadDigests {
		why = append(why, "not in the digests folder")
	}
	switch {
	case in.runErr != nil:
		why = append(why, in.runErr.Error())
	case in.run == "":
		why = append(why, "no run anchored in "+in.anchor)
	default:
		why = append(why, "no keepalive anchor for run "+in.run)
	}
	why = append(why, "not in a published list")
	return strings.Join(why, ", ")
}

// presentRepos returns the repos holding a leg's digest, in column order.
func presentRepos(l Leg, cfg Config) []string {
	var present []string
	for _, r := range cfg.Repos() {
		if l.Cells[r.Repo].State == CellPresent {
			present = append(present, r.Repo)
		}
	}
	return present
}

func cellErrors(l Leg) string {
	var errs []string
	for repo, c := range l.Cells {
		// An unknown cell with an error was not asked (spent quota);
		// without one, there was no digest to ask about.
		if c.State == CellDenied || c.State == CellError || (c.State == CellUnknown && c.Error != "") {
			errs = append(errs, fmt.Sprintf("%s %s", repo, c.State))
		}
	}
	if len(errs) == 0 {
		return ""
	}
	sort.Strings(errs)
	return " that answered (" + strings.Join(errs, ", ") + ")"
}

func targetNames(cfg Config, b *BackendReport) []string {
	var out []string
	for _, t := range cfg.Targets {
		if _, ok := b.Targets[t.Name]; ok {
			out = append(out, t.Name)
		}
	}
	return out
}

// ReleaseTag is the target's release (or, on a branch, branch) tag; ""
// when the target has none.
func (ts *TargetStatus) ReleaseTag() string {
	for tag, st := range ts.Tags {
		if st.Role == RoleRelease || st.Role == RoleBranch {
			return tag
		}
	}
	return ""
}

// SortedTags lists the target's tags as the release writes them: the
// release or branch tag, the commit's sha tag, latest; ties by name.
func (ts *TargetStatus) SortedTags() []string {
	rank := map[string]int{RoleRelease: 0, RoleBranch: 0, RoleSHA: 1, RoleLatest: 2}
	tags := make([]string, 0, len(ts.Tags))
	for t := range ts.Tags {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool {
		ri, rj := rank[ts.Tags[tags[i]].Role], rank[ts.Tags[tags[j]].Role]
		if ri != rj {
			return ri < rj
		}
		return tags[i] < tags[j]
	})
	return tags
}

// short abbreviates a digest for prose (manifest.Short: sha256: and 12 hex).
func short(d string) string { return manifest.Short(d) }
