package tui

import (
	"path"
	"slices"
	"strings"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
)

// sortMode is the order of the table's rows.
type sortMode int

const (
	sortMatrix  sortMode = iota // as the matrix lists them
	sortVerdict                 // needing a person first, ok last
)

func (s sortMode) String() string {
	if s == sortVerdict {
		return "verdict"
	}
	return "matrix"
}

// applyEvent folds one inspection event into r, the report being painted.
// It returns false when the event names nothing in r (an engine bug or an
// event of another inspection), which the caller ignores.
func applyEvent(r *release.Report, ev inspect.Event) bool {
	switch ev := ev.(type) {
	case inspect.DigestEvent:
		l := findLeg(r, ev.Suffix, ev.PlatformTag)
		if l == nil {
			return false
		}
		l.Digest, l.DigestFrom = ev.Digest, ev.From
	case inspect.CellEvent:
		l := findLeg(r, ev.Suffix, ev.PlatformTag)
		if l == nil {
			return false
		}
		if l.Cells == nil {
			l.Cells = map[string]release.Cell{}
		}
		l.Cells[ev.Repo] = ev.Cell
	case inspect.TagEvent:
		b := findBackend(r, ev.Suffix)
		if b == nil {
			return false
		}
		if b.Targets == nil {
			b.Targets = map[string]*release.TargetStatus{}
		}
		t := b.Targets[ev.Target]
		if t == nil {
			t = &release.TargetStatus{Repo: targetRepo(r, ev.Target), State: release.TagPending}
			b.Targets[ev.Target] = t
		}
		if t.Tags == nil {
			t.Tags = map[string]release.TagStatus{}
		}
		t.Tags[ev.Tag] = ev.Status
		if ev.Status.Role == release.RoleRelease || ev.Status.Role == release.RoleBranch {
			t.State = ev.Status.State
		}
	case inspect.BackendEvent:
		if ev.Backend == nil {
			return false
		}
		for i, b := range r.Backends {
			if b.Suffix == ev.Backend.Suffix {
				r.Backends[i] = ev.Backend
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}

func findBackend(r *release.Report, suffix string) *release.BackendReport {
	if r == nil {
		return nil
	}
	for _, b := range r.Backends {
		if b.Suffix == suffix {
			return b
		}
	}
	return nil
}

func findLeg(r *release.Report, suffix, platformTag string) *release.Leg {
	b := findBackend(r, suffix)
	if b == nil {
		return nil
	}
	for i := range b.Legs {
		if b.Legs[i].PlatformTag == platformTag {
			return &b.Legs[i]
		}
	}
	return nil
}

func targetRepo(r *release.Report, name string) string {
	for _, rp := range r.Repos {
		if rp.Role == release.RoleTarget && rp.Name == name {
			return rp.Repo
		}
	}
	return ""
}

// summarize counts verdicts as they stand, plus the backends still pending,
// so the header moves while probes answer.
func summarize(r *release.Report) (s release.Summary, pending int) {
	if r == nil {
		return s, 0
	}
	for _, b := range r.Backends {
		if b.Verdict == release.VerdictPending || b.Verdict == "" {
			pending++
			continue
		}
		s.Add(b.Verdict)
	}
	return s, pending
}

// visibleRows filters and sorts the report's backends for the table.
func visibleRows(r *release.Report, filter string, brokenOnly, notBuilt bool, mode sortMode) []*release.BackendReport {
	if r == nil {
		return nil
	}
	f := strings.ToLower(strings.TrimSpace(filter))
	var out []*release.BackendReport
	for _, b := range r.Backends {
		if brokenOnly && (b.Verdict == release.VerdictOK || b.Verdict == release.VerdictPending) {
			continue
		}
		if !notBuilt && b.Verdict == release.VerdictNotBuilt {
			continue
		}
		if f != "" && !matches(b, f) {
			continue
		}
		out = append(out, b)
	}
	if mode == sortVerdict {
		slices.SortStableFunc(out, func(a, b *release.BackendReport) int {
			return a.Verdict.Rank() - b.Verdict.Rank()
		})
	}
	return out
}

func matches(b *release.BackendReport, f string) bool {
	for _, s := range []string{b.Suffix, b.Name, string(b.Kind), string(b.Verdict)} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// shortRepo is a repo's column label: the target name for targets, "anchor"
// for the anchor, the last path element for other sources.
func shortRepo(rp release.Repo) string {
	switch {
	case rp.Role == release.RoleTarget && rp.Name != "":
		return rp.Name
	case rp.Role == release.RoleAnchor:
		return "anchor"
	default:
		return path.Base(rp.Repo)
	}
}

// targets lists the report's targets in column order.
func targets(r *release.Report) []release.Repo {
	var out []release.Repo
	for _, rp := range r.Repos {
		if rp.Role == release.RoleTarget {
			out = append(out, rp)
		}
	}
	return out
}

// legSlots places a backend's legs in the table's two leg columns: arm64
// legs right, every other leg left, so a single-arch arm64 backend is never
// drawn under amd64. A slot is nil when the backend has no leg for it.
func legSlots(b *release.BackendReport) [2]*release.Leg {
	var s [2]*release.Leg
	for i := range b.Legs {
		l := &b.Legs[i]
		want := 0
		if l.PlatformTag == "arm64" || strings.HasSuffix(l.Platform, "/arm64") {
			want = 1
		}
		if s[want] != nil {
			want = 1 - want
		}
		if s[want] == nil {
			s[want] = l
		}
	}
	return s
}

// userFacingBroken reports whether a user-facing tag (latest or branch) of
// backend b in target name lets users down: inspect's own judgement
// (TagStatus.UserImpact), which leaves out a latest that already moved on
// to a newer release, so the marker never flags a healthy latest. Until
// the backend is judged it shows nothing.
func userFacingBroken(b *release.BackendReport, name string) bool {
	if b == nil || b.Targets[name] == nil {
		return false
	}
	for _, st := range b.Targets[name].Tags {
		if release.UserFacing(st.Role) && st.UserImpact != "" {
			return true
		}
	}
	return false
}
