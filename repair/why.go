package repair

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-skynet/remerge/internal/release"
)

// This file is the one answer to "why is this backend not re-merged?",
// read from its report alone. NewPlan refuses with it, and the CLI's
// closing summary (and exit code) says it, so the two never disagree.

// darwinWhy is why a darwin backend is never re-merged, whatever its state.
const darwinWhy = "darwin image, pushed by its build and never re-merged"

// WhyNot says why backend b is not re-merged into any target, in the words
// a person acts on; "" when it may be (ok, repairable, or a conflict with
// force). An ok darwin backend gets "" too: nothing is left broken.
func WhyNot(b *release.BackendReport, force bool) string {
	switch {
	case b.Kind == release.KindDarwin && b.Verdict != release.VerdictOK:
		return fmt.Sprintf("%s %s: %s", b.Verdict, darwinWhy, orNone(firstProblem(b)))
	case b.Verdict == release.VerdictUnrepairable:
		return "unrepairable: " + rebuildText(b)
	case b.Verdict == release.VerdictConflict && !force:
		problem := firstProblem(b)
		if !strings.Contains(problem, "--force") {
			problem = orNone(problem) + "; re-run with --force to replace it"
		}
		return "conflict: " + problem
	case b.Verdict == release.VerdictUnknown:
		return "unknown: " + unknownText(b)
	case b.Verdict == release.VerdictPending:
		return "not judged: the inspection did not finish"
	}
	return ""
}

// refusal is WhyNot for one target, as NewPlan records it: a darwin
// backend is refused even when ok, a conflict names the target whose
// release tag holds the other image, and a leg without a digest is refused
// whatever the verdict says.
func refusal(b *release.BackendReport, target string, force bool) string {
	switch {
	case b.Kind == release.KindDarwin:
		return darwinWhy
	case b.Verdict == release.VerdictConflict && !force:
		return conflictIn(b, target)
	}
	if why := WhyNot(b, force); why != "" {
		return why
	}
	if len(b.Legs) == 0 {
		return "no legs in the report"
	}
	for _, l := range b.Legs {
		if l.Digest == "" {
			return fmt.Sprintf("no digest known for the %s leg", l.PlatformTag)
		}
	}
	return ""
}

// conflictIn says which target's release tag already names a complete
// image of other digests: this one's, or another's.
func conflictIn(b *release.BackendReport, target string) string {
	var in []string
	for name, ts := range b.Targets {
		if ts != nil && ts.Conflict {
			in = append(in, name)
		}
	}
	if ts := b.Targets[target]; len(in) == 0 || (ts != nil && ts.Conflict) {
		return "conflict: the release tag already points to a complete image of other digests; re-run with force to replace it"
	}
	sort.Strings(in)
	return fmt.Sprintf("conflict in %s: the release tag there already points to a complete image of other digests; re-run with force to replace it",
		strings.Join(in, " and "))
}

// firstProblem is the problem the verdict rests on; the rest (each tag's
// state) are in inspect's report.
func firstProblem(b *release.BackendReport) string {
	if len(b.Problems) > 0 {
		return b.Problems[0]
	}
	return ""
}

// unknownText says why no digest is known: inspect's own words when it
// recorded them, else the first leg's cause (a registry it could not
// reach), else that none is known.
func unknownText(b *release.BackendReport) string {
	if p := firstProblem(b); p != "" {
		return p
	}
	for _, l := range b.Legs {
		if l.Digest == "" && l.DigestError != "" {
			return fmt.Sprintf("no digest known for %s: %s", l.PlatformTag, l.DigestError)
		}
	}
	return "no digest is known for this backend"
}

// rebuildText names the legs of an unrepairable backend that no repository
// holds: those need a rebuild.
func rebuildText(b *release.BackendReport) string {
	var legs []string
	for _, l := range b.Legs {
		present := false
		for _, c := range l.Cells {
			present = present || c.State == release.CellPresent
		}
		if !present && l.Digest != "" {
			legs = append(legs, fmt.Sprintf("%s (%s)", l.PlatformTag, l.Digest))
		}
	}
	if len(legs) == 0 {
		return orNone(strings.Join(b.Problems, "; ")) + "; it needs a rebuild"
	}
	return "rebuild the " + strings.Join(legs, " and ") + " leg: present in no repository"
}

func orNone(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}
