package inspect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
)

// judgeInput is what judge needs beyond the backend itself.
type judgeInput struct {
	cfg        release.Config
	run        string
	runErr     error
	anchor     string
	hadDigests bool
	// absent: repos that do not exist, and why; create: target names the
	// caller means to create (WithCreateTargets).
	absent map[string]string
	create map[string]bool
	// notBuilt: why a branch run did not build the backend (no leg's
	// digest from the run); "" when it did.
	notBuilt string
}

// judge settles the verdict, problems and impact of a backend whose probes
// have all answered and whose tags are judged (judgeTags).
func judge(b *release.BackendReport, in judgeInput) {
	markAbsent(b, in)
	if b.Kind == release.KindDarwin {
		judgeDarwin(b, in)
		return
	}
	if in.notBuilt != "" {
		b.Verdict = release.VerdictNotBuilt
		b.Problems = append(b.Problems, in.notBuilt)
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
				l.PlatformTag, manifest.Short(l.Digest), strings.TrimPrefix(cellErrors(l), " that answered")))
			continue
		}
		if len(present) == 0 {
			nowhere = append(nowhere, l.PlatformTag)
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest %s is present in no repo%s: rebuild %s for %s",
				l.PlatformTag, manifest.Short(l.Digest), cellErrors(l), b.Suffix, l.Platform))
			continue
		}
		if legInTargets(b, l, present, in.cfg) {
			broken = true
		}
	}
	if lost := recipeLost(b, in, unknownLegs); len(lost) > 0 {
		nowhere, unknownLegs = append(nowhere, unknownLegs...), nil
		b.Problems = append(b.Problems, lost...)
	}
	if len(unknownLegs) > 0 {
		b.Problems = append(b.Problems, fmt.Sprintf("no digest known for %s: %s", strings.Join(unknownLegs, ", "), whyNoDigest(in)))
	}
	healthy, tagsBroken, conflict := judgeTargets(b, in)
	broken = broken || tagsBroken
	judgeSignatures(b, in.cfg)
	switch {
	case len(unknownLegs) > 0:
		b.Verdict = release.VerdictUnknown
	case conflict:
		b.Verdict = release.VerdictConflict
	case len(nowhere) > 0:
		b.Verdict = release.VerdictUnrepairable
	case len(unchecked) > 0:
		b.Verdict = release.VerdictUnknown
	case healthy:
		b.Verdict = release.VerdictOK
	case broken:
		b.Verdict = release.VerdictRepairable
	default: // only unanswered probes stand between it and ok
		b.Verdict = release.VerdictUnknown
	}
}

// legInTargets says what a leg present somewhere is in each target: a
// reaped child, or one whose blobs are not linked, is broken (true); a
// probe that did not answer is only said.
func legInTargets(b *release.BackendReport, l release.Leg, present []string, cfg release.Config) (broken bool) {
	for _, t := range cfg.Targets {
		c := l.Cells[t.Repo]
		switch c.State {
		case release.CellMissing:
			broken = true
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest reaped from %s; still in %s", l.PlatformTag, t.Repo, strings.Join(present, " and ")))
		case release.CellDenied, release.CellError, release.CellUnknown:
			b.Problems = append(b.Problems, fmt.Sprintf("%s manifest in %s: %s (%s)", l.PlatformTag, t.Repo, c.State, c.Error))
		case release.CellPresent:
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
func judgeTargets(b *release.BackendReport, in judgeInput) (healthy, broken, conflict bool) {
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
				rt, name, manifest.Short(ts.Tags[rt].Digest), holds(ts.Tags[rt])))
		}
		for _, tag := range ts.SortedTags() {
			st := ts.Tags[tag]
			if st.State == release.TagComplete {
				continue
			}
			if release.UserFacing(st.Role) && st.Newer != "" {
				continue // latest, a series or the branch already moved on: fine
			}
			healthy = false
			// A tag judged not complete is broken; one that could not be
			// read or judged (a registry that did not answer) is not known
			// to be.
			if !st.State.NotRead() {
				broken = true
			}
			desc := describeTag(st)
			b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: %s", tag, name, desc))
			if release.UserFacing(st.Role) {
				st.UserImpact = impactOf(st)
				ts.Tags[tag] = st
				b.Impact = append(b.Impact, fmt.Sprintf("%s in %s: %s", tag, name, st.UserImpact))
			}
		}
		for _, l := range b.Legs {
			if c := l.Cells[ts.Repo]; c.State != release.CellPresent || len(c.MissingBlobs) > 0 {
				healthy = false
			}
		}
	}
	return healthy, broken, conflict
}

// judgeDarwin: darwin images are pushed tagged by their build; remerge
// shows them and never merges them.
func judgeDarwin(b *release.BackendReport, in judgeInput) {
	b.Verdict = release.VerdictOK
	for _, name := range targetNames(in.cfg, b) {
		ts := b.Targets[name]
		rt := ts.ReleaseTag()
		switch st := ts.Tags[rt]; st.State {
		case release.TagComplete:
		case release.TagMissing:
			b.Verdict = release.VerdictUnrepairable
			b.Problems = append(b.Problems, fmt.Sprintf("%s missing in %s: darwin images are pushed by their build, not merged; re-run the darwin build", rt, name))
			st.UserImpact = "missing"
			ts.Tags[rt] = st
			b.Impact = append(b.Impact, fmt.Sprintf("%s in %s: %s", rt, name, st.UserImpact))
		default:
			if b.Verdict == release.VerdictOK {
				b.Verdict = release.VerdictUnknown
			}
			b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: %s", rt, name, describeTag(st)))
		}
	}
}

func describeTag(st release.TagStatus) string {
	switch st.State {
	case release.TagStale:
		return fmt.Sprintf("stale (points to %s, other digests%s)", manifest.Short(st.Digest), holds(st))
	case release.TagPartial, release.TagDangling, release.TagBroken:
		return fmt.Sprintf("%s (%s %s %s%s)", st.State, st.Form, manifest.Short(st.Digest), st.Reason, holds(st))
	case release.TagDenied, release.TagError, release.TagUnknown:
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
func holds(st release.TagStatus) string {
	if st.Provenance == nil || st.Provenance.Empty() {
		return ""
	}
	return "; holds " + st.Provenance.String()
}

func impactOf(st release.TagStatus) string {
	switch st.State {
	case release.TagMissing:
		return "missing: installs fail with MANIFEST_UNKNOWN"
	case release.TagStale:
		if st.Provenance != nil && !st.Provenance.Empty() {
			return "stale: users silently get " + st.Provenance.String()
		}
		return "stale: users silently get the previous image"
	case release.TagDangling:
		return "dangling: pulls fail for the missing platform"
	case release.TagBroken:
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
	case in.anchor == "" && in.cfg.Recipe():
		// The multi-runner recipe anchors nothing: its digests are the
		// run's digests-* artifacts.
		if !in.hadDigests {
			why = append(why, "no --digests folder (the run's digests-* artifacts)")
		}
	case in.run == "":
		why = append(why, "no run anchored in "+in.anchor)
	default:
		why = append(why, "no keepalive anchor for run "+in.run)
	}
	why = append(why, "not in a published list")
	return strings.Join(why, ", ")
}

// presentRepos returns the repos holding a leg's digest, in column order.
func presentRepos(l release.Leg, cfg release.Config) []string {
	var present []string
	for _, r := range cfg.Repos() {
		if l.Cells[r.Repo].State == release.CellPresent {
			present = append(present, r.Repo)
		}
	}
	return present
}

func cellErrors(l release.Leg) string {
	var errs []string
	for repo, c := range l.Cells {
		// An unknown cell with an error was not asked (spent quota);
		// without one, there was no digest to ask about.
		if c.State == release.CellDenied || c.State == release.CellError || (c.State == release.CellUnknown && c.Error != "") {
			errs = append(errs, fmt.Sprintf("%s %s", repo, c.State))
		}
	}
	if len(errs) == 0 {
		return ""
	}
	sort.Strings(errs)
	return " that answered (" + strings.Join(errs, ", ") + ")"
}

func targetNames(cfg release.Config, b *release.BackendReport) []string {
	var out []string
	for _, t := range cfg.Targets {
		if _, ok := b.Targets[t.Name]; ok {
			out = append(out, t.Name)
		}
	}
	return out
}

// recipeLost turns legs of a recipe image with no digest anywhere into
// findings that make it unrepairable: the build jobs of the other
// platforms answered (or the digests folder was read), every lookup
// answered, and this platform left no digest: its build failed, or its
// artifact expired (retention-days: 1) and nothing published names it.
// Outside the recipe, or with nothing to go on at all, it returns nil and
// the legs stay unknown.
func recipeLost(b *release.BackendReport, in judgeInput, legs []string) []string {
	if !in.cfg.Recipe() || len(legs) == 0 {
		return nil
	}
	known := in.hadDigests
	for _, l := range b.Legs {
		known = known || l.Digest != ""
	}
	if !known {
		return nil
	}
	var out []string
	for _, tag := range legs {
		for _, l := range b.Legs {
			if l.PlatformTag == tag {
				out = append(out, fmt.Sprintf("no digest for %s anywhere (not in the digests folder, not in a published list): its build failed or its digest expired; rebuild %s", l.Platform, l.Platform))
			}
		}
	}
	return out
}
