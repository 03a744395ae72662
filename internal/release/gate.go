package release

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// GateCondition is one word of `remerge inspect --fail-on`: a way a
// user-facing tag (latest-<suffix>, the branch tag, a darwin image's
// release tag) can let users down. A release workflow names the ones that
// must not hold before it announces a release.
type GateCondition string

// Gate conditions, the vocabulary of --fail-on.
const (
	// FailMissing: a user-facing tag does not exist (users get
	// MANIFEST_UNKNOWN at install).
	FailMissing GateCondition = "missing"
	// FailStale: a user-facing tag points to other digests, e.g. the
	// previous release (users silently get no update).
	FailStale GateCondition = "stale"
	// FailStaleLatest: as FailStale, for latest-<suffix> only.
	FailStaleLatest GateCondition = "stale-latest"
	// FailBroken: a user-facing tag names a list that is partial,
	// dangling (a child missing in that repo: the pull fails half-way) or
	// broken (it misstates a child's size, type or platform: pulls fail).
	FailBroken GateCondition = "broken"
	// FailIncomplete: a user-facing tag is anything but complete; the
	// union of the others.
	FailIncomplete GateCondition = "incomplete"
	// FailUnsigned: a complete user-facing tag names an image (or a child)
	// that carries no cosign signature in that target; could-not-tell
	// fails too.
	FailUnsigned GateCondition = "unsigned"
)

// gateConditions lists the vocabulary in the order help text names it.
var gateConditions = []GateCondition{FailMissing, FailStale, FailStaleLatest, FailBroken, FailIncomplete, FailUnsigned}

// Gate is a parsed --fail-on: the conditions a release must not meet.
type Gate struct {
	conds []GateCondition
}

// ParseGate reads a comma-separated list of conditions ("stale-latest,missing").
// An unknown or empty word is an error naming it.
func ParseGate(spec string) (Gate, error) {
	var g Gate
	for _, w := range strings.Split(spec, ",") {
		w = strings.TrimSpace(w)
		c := GateCondition(w)
		switch {
		case slices.Contains(gateConditions, c):
			if !slices.Contains(g.conds, c) {
				g.conds = append(g.conds, c)
			}
		case w == "":
			return Gate{}, fmt.Errorf("%q: an empty condition; want a comma-separated list of %s", spec, GateVocabulary())
		default:
			return Gate{}, fmt.Errorf("%q: no such condition; want %s", w, GateVocabulary())
		}
	}
	return g, nil
}

// GateVocabulary names the conditions for help and error text.
func GateVocabulary() string {
	words := make([]string, len(gateConditions))
	for i, c := range gateConditions {
		words[i] = string(c)
	}
	return strings.Join(words, ", ")
}

// Empty reports whether the gate names no condition (no --fail-on).
func (g Gate) Empty() bool { return len(g.conds) == 0 }

// Check returns one line per user-facing tag of r that fails the gate,
// naming the backend, tag, target, state and the condition it meets, e.g.
// "-cpu-kokoro: latest-cpu-kokoro in quay is stale (stale-latest)". A tag
// the registry did not answer (denied, error, pending) fails every
// condition that covers it, as "could not tell": the gate cannot show the
// condition does not hold. Empty when the release passes.
//
// A tag is user-facing and not fine exactly when inspect's own judgement
// gave it a UserImpact; that leaves out a latest that already moved on to
// a newer release, which is not stale for users.
func (g Gate) Check(r *Report) []string {
	var out []string
	for _, b := range r.Backends {
		for _, name := range slices.Sorted(maps.Keys(b.Targets)) {
			ts := b.Targets[name]
			if ts == nil {
				continue
			}
			for _, tag := range ts.SortedTags() {
				st := ts.Tags[tag]
				if st.State == TagComplete {
					if why := g.unsigned(st); why != "" {
						out = append(out, fmt.Sprintf("%s: %s in %s %s (%s)", b.Suffix, tag, name, why, FailUnsigned))
					}
					continue
				}
				if st.UserImpact == "" {
					continue
				}
				if c, ok := g.failed(st); ok {
					what := "is " + string(st.State)
					if unreadable(st.State) {
						what = "could not be read (" + string(st.State) + ")"
					}
					out = append(out, fmt.Sprintf("%s: %s in %s %s (%s)", b.Suffix, tag, name, what, c))
				}
			}
		}
	}
	return out
}

// failed returns the first condition of g the tag meets, or that an
// unreadable tag may meet.
func (g Gate) failed(st TagStatus) (GateCondition, bool) {
	for _, c := range g.conds {
		if c.covers(st.Role) && (unreadable(st.State) || c.matches(st.State)) {
			return c, true
		}
	}
	return "", false
}

// unsigned says why a complete tag fails "unsigned" ("" when it does not
// or the gate does not ask): only user-facing tags, and only when a
// signature was looked up.
func (g Gate) unsigned(st TagStatus) string {
	if !slices.Contains(g.conds, FailUnsigned) || !UserFacing(st.Role) || st.Signature == nil {
		return ""
	}
	switch st.Signature.Gap() {
	case GapUnsigned:
		return "is unsigned"
	case GapUnsignedChild:
		return "names an unsigned child"
	case GapCouldNotTell:
		return "could not be checked for a signature"
	}
	return ""
}

// covers reports whether a condition looks at tags of this role.
func (c GateCondition) covers(role string) bool {
	return c != FailStaleLatest || role == RoleLatest
}

// matches reports whether a read tag state meets the condition.
func (c GateCondition) matches(s TagState) bool {
	switch c {
	case FailMissing:
		return s == TagMissing
	case FailStale, FailStaleLatest:
		return s == TagStale
	case FailBroken:
		return s == TagPartial || s == TagDangling || s == TagBroken
	case FailIncomplete:
		return s != TagComplete
	case FailUnsigned:
		return false // judged on complete tags, by unsigned
	}
	return false
}

func unreadable(s TagState) bool {
	return s.NotRead() || s == TagPending
}

// NotRead reports whether a tag was asked for and not read: denied, an
// error, or not asked because its registry's quota is spent.
func (s TagState) NotRead() bool {
	return s == TagDenied || s == TagError || s == TagUnknown
}
