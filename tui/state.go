package tui

import (
	"path"
	"slices"
	"strings"

	"github.com/go-skynet/remerge/inspect"
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
func applyEvent(r *inspect.Report, ev inspect.Event) bool {
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
			l.Cells = map[string]inspect.Cell{}
		}
		l.Cells[ev.Repo] = ev.Cell
	case inspect.TagEvent:
		b := findBackend(r, ev.Suffix)
		if b == nil {
			return false
		}
		if b.Targets == nil {
			b.Targets = map[string]*inspect.TargetStatus{}
		}
		t := b.Targets[ev.Target]
		if t == nil {
			t = &inspect.TargetStatus{Repo: targetRepo(r, ev.Target), State: inspect.TagPending}
			b.Targets[ev.Target] = t
		}
		if t.Tags == nil {
			t.Tags = map[string]inspect.TagStatus{}
		}
		t.Tags[ev.Tag] = ev.Status
		if ev.Status.Role == inspect.RoleRelease || ev.Status.Role == inspect.RoleBranch {
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

func findBackend(r *inspect.Report, suffix string) *inspect.BackendReport {
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

func findLeg(r *inspect.Report, suffix, platformTag string) *inspect.Leg {
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

func targetRepo(r *inspect.Report, name string) string {
	for _, rp := range r.Repos {
		if rp.Role == inspect.RoleTarget && rp.Name == name {
			return rp.Repo
		}
	}
	return ""
}

// summarize counts verdicts as they stand, plus the backends still pending,
// so the header moves while probes answer.
func summarize(r *inspect.Report) (s inspect.Summary, pending int) {
	if r == nil {
		return s, 0
	}
	for _, b := range r.Backends {
		if b.Verdict == inspect.VerdictPending || b.Verdict == "" {
			pending++
			continue
		}
		s.Add(b.Verdict)
	}
	return s, pending
}

// visibleRows filters and sorts the report's backends for the table.
func visibleRows(r *inspect.Report, filter string, brokenOnly, notBuilt bool, mode sortMode) []*inspect.BackendReport {
	if r == nil {
		return nil
	}
	f := strings.ToLower(strings.TrimSpace(filter))
	var out []*inspect.BackendReport
	for _, b := range r.Backends {
		if brokenOnly && (b.Verdict == inspect.VerdictOK || b.Verdict == inspect.VerdictPending) {
			continue
		}
		if !notBuilt && b.Verdict == inspect.VerdictNotBuilt {
			continue
		}
		if f != "" && !matches(b, f) {
			continue
		}
		out = append(out, b)
	}
	if mode == sortVerdict {
		slices.SortStableFunc(out, func(a, b *inspect.BackendReport) int {
			return a.Verdict.Rank() - b.Verdict.Rank()
		})
	}
	return out
}

func matches(b *inspect.BackendReport, f string) bool {
	for _, s := range []string{b.Suffix, b.Name, string(b.Kind), string(b.Verdict)} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// shortRepo is a repo's column label: the target name for targets, "anchor"
// for the anchor, the last path element for other sources.
func shortRepo(rp inspect.Repo) string {
	switch {
	case rp.Role == inspect.RoleTarget && rp.Name != "":
		return rp.Name
	case rp.Role == inspect.RoleAnchor:
		return "anchor"
	default:
		return path.Base(rp.Repo)
	}
}

// targets lists the report's targets in column order.
func targets(r *inspect.Report) []inspect.Repo {
	var out []inspect.Repo
	for _, rp := range r.Repos {
		if rp.Role == inspect.RoleTarget {
			out = append(out, rp)
		}
	}
	return out
}

// legSlots places a backend's legs in the table's two leg columns: arm64
// legs right, every other leg left, so a single-arch arm64 backend is never
// drawn under amd64. A slot is nil when the backend has no leg for it.
func legSlots(b *inspect.BackendReport) [2]*inspect.Leg {
	var s [2]*inspect.Leg
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
func userFacingBroken(b *inspect.BackendReport, name string) bool {
	if b == nil || b.Targets[name] == nil {
		return false
	}
	for _, st := range b.Targets[name].Tags {
		if (inspect.ForwardOnly(st.Role) || st.Role == inspect.RoleBranch) && st.UserImpact != "" {
			return true
		}
	}
	return false
}
