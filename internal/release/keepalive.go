package release

import (
	"sort"
	"strings"
)

// keepalivePrefix starts every anchor tag the build jobs write into the
// anchor repo (DESIGN.md section 1).
const keepalivePrefix = "keepalive-"

// Keepalive is a parsed anchor tag: keepalive-<run><suffix>-<platform-tag>.
type Keepalive struct {
	Run         string // GitHub run id, digits only
	Suffix      string // tag-suffix, starting with '-'
	PlatformTag string // amd64, arm64 or single
}

// keepalivePlatformTags are the last words an anchor tag may end with. A
// suffix may itself contain these words (-metal-darwin-arm64-llama-cpp), so
// the platform is always taken from the end of the tag.
var keepalivePlatformTags = []string{"amd64", "arm64", "single"}

// ParseKeepalive splits an anchor tag. It reports false for anything that
// is not exactly keepalive-<digits><suffix>-<amd64|arm64|single> with a
// suffix starting with '-' and longer than that dash: build-cache tags
// (cache-...) and hand-made tags in the anchor repo are not anchors.
func ParseKeepalive(tag string) (Keepalive, bool) {
	rest, ok := strings.CutPrefix(tag, keepalivePrefix)
	if !ok {
		return Keepalive{}, false
	}
	var ptag string
	for _, p := range keepalivePlatformTags {
		if r, ok := strings.CutSuffix(rest, "-"+p); ok {
			rest, ptag = r, p
			break
		}
	}
	if ptag == "" {
		return Keepalive{}, false
	}
	// The run id ends at the first non-digit, which must be the suffix's
	// leading dash; a suffix may contain digits after that.
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	run, suffix := rest[:i], rest[i:]
	if run == "" || len(suffix) < 2 || suffix[0] != '-' {
		return Keepalive{}, false
	}
	return Keepalive{Run: run, Suffix: suffix, PlatformTag: ptag}, true
}

// KeepaliveTag is the anchor tag a build job writes for one leg; the
// inverse of ParseKeepalive.
func KeepaliveTag(run, suffix, platformTag string) string {
	return keepalivePrefix + run + suffix + "-" + platformTag
}

// AnchorRun is one CI run seen in the anchor repo's tags, with the number
// of anchors (legs) it left there. It is offered to the maintainer when no
// --run is given. (Named AnchorRun, not Run: Run is the inspection.)
type AnchorRun struct {
	ID      string
	Anchors int
}

// RunsInTags groups the keepalive tags of a tag list by run id, newest
// (numerically largest id) first. Tags that are not anchors, such as
// build-cache tags, are ignored; a tag listed twice counts once.
func RunsInTags(tags []string) []AnchorRun {
	seen := map[string]bool{}
	count := map[string]int{}
	for _, t := range tags {
		k, ok := ParseKeepalive(t)
		if !ok || seen[t] {
			continue
		}
		seen[t] = true
		count[k.Run]++
	}
	out := make([]AnchorRun, 0, len(count))
	for id, n := range count {
		out = append(out, AnchorRun{ID: id, Anchors: n})
	}
	sort.Slice(out, func(i, j int) bool { return keepaliveRunNewer(out[i].ID, out[j].ID) })
	return out
}

// keepaliveRunNewer compares two digit strings as numbers without parsing
// them (ids may outgrow int64 one day; leading zeros are allowed). Equal
// numbers with different spellings are ordered by string for determinism.
func keepaliveRunNewer(a, b string) bool {
	ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(ta) != len(tb) {
		return len(ta) > len(tb)
	}
	if ta != tb {
		return ta > tb
	}
	return a > b
}
