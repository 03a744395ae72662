package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/repair"
)

// repairSummary collects, per backend and target, what repair leaves
// broken and why; it is the closing summary, so a long plan listing does
// not hide it, and its emptiness is the exit code. Its lines follow the
// report's backend order, whatever order the pairs finished in.
type repairSummary struct {
	rep  *release.Report
	f    repairFlags
	cfg  release.Config
	left []string
}

func (s *repairSummary) add(format string, args ...any) {
	s.left = append(s.left, fmt.Sprintf(format, args...))
}

// selectPairs lists the (backend, target) pairs to plan, in report order:
// every selected target of every backend not left alone (a healthy one is
// skipped under --all).
func (s *repairSummary) selectPairs() []*pair {
	var pairs []*pair
	targets := s.f.targetNames(s.cfg)
	for _, b := range s.rep.Backends {
		if repair.WhyNot(b, s.f.force) != "" || (b.Verdict == release.VerdictOK && s.f.all && !s.f.wantsAny(b)) {
			continue
		}
		for _, t := range targets {
			if !s.quotaSpent(t) {
				pairs = append(pairs, &pair{Job: &repair.Job{Backend: b, Target: t}})
			}
		}
	}
	return pairs
}

// quotaSpent reports whether target's registry stopped answering for its
// pull quota during the inspection: its state was not read, so nothing is
// planned into it.
func (s *repairSummary) quotaSpent(target string) bool {
	t, ok := s.cfg.Target(target)
	return ok && s.rep.Registries[registry.Host(t.Repo)].QuotaSpent
}

// collect writes the summary once the pairs are done: per backend, why it
// was left alone, or what each of its pairs left broken, and what stays
// broken in targets not selected.
func (s *repairSummary) collect(pairs []*pair) {
	byBackend := map[*release.BackendReport][]*pair{}
	for _, p := range pairs {
		byBackend[p.Backend] = append(byBackend[p.Backend], p)
	}
	for _, b := range s.rep.Backends {
		if why := repair.WhyNot(b, s.f.force); why != "" {
			s.add("%s: %s", b.Suffix, why)
			continue
		}
		if ps := byBackend[b]; len(ps) > 0 {
			s.pairs(b, ps)
		}
		s.otherTargets(b)
	}
}

// pairs adds what the pairs of backend b left broken.
func (s *repairSummary) pairs(b *release.BackendReport, ps []*pair) {
	noop := true
	for _, p := range ps {
		switch {
		case p.PlanErr != nil:
			s.add("%s in %s: could not plan: %s", b.Suffix, p.Target, oneLine(p.PlanErr.Error()))
		case p.Plan == nil:
			s.add("%s in %s: not planned: the run was interrupted", b.Suffix, p.Target)
		case p.Plan.Refusal != "":
			s.add("%s in %s: %s", b.Suffix, p.Target, p.Plan.Refusal)
		case !p.Plan.Writes():
			continue
		case p.ExecErr != nil:
			s.add("%s in %s: failed: %s", b.Suffix, p.Target, oneLine(p.ExecErr.Error()))
		case p.Result == nil:
			s.add("%s in %s: not re-merged", b.Suffix, p.Target)
		case !p.Result.NoOp && !p.Result.Verified:
			s.add("%s in %s: published, but the tags did not read back as %s", b.Suffix, p.Target, p.Plan.ListDigest)
		}
		noop = false
	}
	if noop && b.Verdict != release.VerdictOK {
		s.add("%s: inspect judged it %s (%s), but no selected target needs a change", b.Suffix, b.Verdict, orNone(strings.Join(b.Problems, "; ")))
	}
}

// otherTargets: with --target, a backend broken in a target not selected
// stays broken there.
func (s *repairSummary) otherTargets(b *release.BackendReport) {
	if len(s.f.targets) == 0 || b.Verdict == release.VerdictOK {
		return
	}
	for _, t := range s.cfg.Targets {
		if slices.Contains(s.f.targets, t.Name) {
			continue
		}
		if ts := b.Targets[t.Name]; ts != nil && ts.State != release.TagComplete {
			s.add("%s in %s: not selected (--target); its release tag is %s", b.Suffix, t.Name, ts.State)
		}
	}
}

// close prints what is left broken and why; errBroken (exit 1) when
// anything is.
func (s *repairSummary) close(w io.Writer) error {
	if len(s.left) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nleft broken:\n")
	for _, l := range s.left {
		fmt.Fprintf(w, "  %s\n", l)
	}
	return errBroken
}

// progressPrinter prints each step of one re-merge, and each
// cross-registry copy once it completes (a byte count per leg, not a line
// per chunk); bytes, when not nil, receives every byte count as it grows.
// Execute calls it one event at a time.
func progressPrinter(w io.Writer, bytes func(int64)) func(repair.Event) {
	done := map[string]int64{}
	return func(e repair.Event) {
		switch e := e.(type) {
		case repair.StepEvent:
			fmt.Fprintf(w, "  [%d/%d] %s\n", e.Index, e.Total, e.Text)
		case repair.BytesEvent:
			if bytes != nil {
				bytes(e.Done - done[e.Leg])
			}
			done[e.Leg] = e.Done
			if e.Total > 0 && e.Done == e.Total {
				fmt.Fprintf(w, "        %s: copied %s from the other registry\n", e.Leg, humanize.IBytes(uint64(e.Done)))
			}
		}
	}
}
