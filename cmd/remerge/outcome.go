package main

import (
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/inspect"
)

// This file answers, for inspect and repair alike, the questions behind
// their exit codes: was anything checked at all, and why is a backend left
// as it is. It reads the report; it does not judge backends again.

// nothingChecked reports whether no registry answered a single probe of
// the report (every registry down, every request denied): then no verdict
// means anything, and the reason is the report's release-wide problems.
func nothingChecked(rep *inspect.Report) (bool, string) {
	if len(rep.Backends) == 0 {
		return false, ""
	}
	for _, b := range rep.Backends {
		for _, l := range b.Legs {
			for _, c := range l.Cells {
				if c.State == inspect.CellPresent || c.State == inspect.CellMissing {
					return false, ""
				}
			}
		}
		for _, ts := range b.Targets {
			for _, st := range ts.Tags {
				switch st.State {
				case inspect.TagError, inspect.TagDenied, inspect.TagPending, inspect.TagUnknown:
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

// whyLeftAlone says why repair does not re-merge backend b, in the words a
// person acts on; "" when b is ok or repairable (or a conflict, with
// --force).
func whyLeftAlone(b *inspect.BackendReport, force bool) string {
	// The first problem is the one the verdict rests on; the rest (each
	// tag's state) are in inspect's report.
	problems := ""
	if len(b.Problems) > 0 {
		problems = b.Problems[0]
	}
	switch {
	case b.Kind == inspect.KindDarwin && b.Verdict != inspect.VerdictOK:
		return fmt.Sprintf("%s darwin image, pushed by its build and never re-merged: %s", b.Verdict, orNone(problems))
	case b.Verdict == inspect.VerdictUnrepairable:
		return "unrepairable: " + rebuildText(b)
	case b.Verdict == inspect.VerdictConflict && !force:
		if !strings.Contains(problems, "--force") {
			problems = orNone(problems) + "; re-run with --force to replace it"
		}
		return "conflict: " + problems
	case b.Verdict == inspect.VerdictUnknown:
		return "unknown: " + orNone(problems)
	case b.Verdict == inspect.VerdictPending:
		return "not judged: the inspection did not finish"
	}
	return ""
}

// rebuildText names the legs of an unrepairable backend that no repository
// holds: those need a rebuild.
func rebuildText(b *inspect.BackendReport) string {
	var legs []string
	for _, l := range b.Legs {
		present := false
		for _, c := range l.Cells {
			present = present || c.State == inspect.CellPresent
		}
		if !present && l.Digest != "" {
			legs = append(legs, fmt.Sprintf("%s (%s)", l.PlatformTag, l.Digest))
		}
	}
	if len(legs) == 0 {
		return orNone(strings.Join(b.Problems, "; "))
	}
	return "rebuild the " + strings.Join(legs, " and ") + " leg: present in no repository"
}

func orNone(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}
