package main

import (
	"strings"

	"github.com/go-skynet/remerge/internal/release"
)

// This file answers, for inspect and repair alike, whether anything was
// checked at all. Why a backend is left as it is, is repair.WhyNot's
// answer; neither judges backends again.

// nothingChecked reports whether no registry answered a single probe of
// the report (every registry down, every request denied): then no verdict
// means anything, and the reason is the report's release-wide problems.
func nothingChecked(rep *release.Report) (bool, string) {
	if len(rep.Backends) == 0 {
		return false, ""
	}
	for _, b := range rep.Backends {
		for _, l := range b.Legs {
			for _, c := range l.Cells {
				if c.State == release.CellPresent || c.State == release.CellMissing {
					return false, ""
				}
			}
		}
		for _, ts := range b.Targets {
			for _, st := range ts.Tags {
				switch st.State {
				case release.TagError, release.TagDenied, release.TagPending, release.TagUnknown:
				default:
					return false, ""
				}
			}
		}
	}
	reason := strings.Join(rep.Problems, "; ")
	if reason == "" {
		reason = "no registry answered"
	}
	return true, reason
}

func orNone(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}
