package tui

import (
	"github.com/go-skynet/remerge/internal/release"
)

// defaultLegGroups are LocalAI's two leg columns: amd64 and arm64 (a
// single-arch backend draws under the one its platform matches).
var defaultLegGroups = []string{"amd64", "arm64"}

// legGroups are the table's leg columns for these rows: LocalAI's two, or
// for legs named otherwise (the multi-runner recipe's image: amd64, arm64,
// arm-v7, …) one column per platform, in the order the rows give them.
func legGroups(rows []*release.BackendReport) []string {
	var out []string
	seen := map[string]bool{}
	custom := false
	for _, b := range rows {
		for _, l := range b.Legs {
			switch l.PlatformTag {
			case "amd64", "arm64", "single":
			default:
				custom = true
			}
			if !seen[l.PlatformTag] {
				seen[l.PlatformTag] = true
				out = append(out, l.PlatformTag)
			}
		}
	}
	if !custom {
		return defaultLegGroups
	}
	return out
}

// legSlotsIn places a backend's legs under the table's leg columns; a slot
// is nil when the backend has no leg for it.
func legSlotsIn(b *release.BackendReport, groups []string) []*release.Leg {
	if len(groups) == 2 && groups[0] == defaultLegGroups[0] && groups[1] == defaultLegGroups[1] {
		s := legSlots(b)
		return s[:]
	}
	out := make([]*release.Leg, len(groups))
	for i, g := range groups {
		for j := range b.Legs {
			if b.Legs[j].PlatformTag == g {
				out[i] = &b.Legs[j]
			}
		}
	}
	return out
}
