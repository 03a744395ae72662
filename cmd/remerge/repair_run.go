package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/repair"
)

// runRepair is the body of `remerge repair` once its flags are valid:
// reconcile the audit log, inspect the selected backends, plan every
// (backend, target) pair, and unless --dry-run ask, execute, and report
// what is still broken. Pairs go through one repair.Batch (concurrent,
// carrying on past failures, one client), as the TUI's re-merges do.
// It returns errBroken (exit 1) unless every backend it answers for is ok
// afterwards: with --all the whole release, else the named backends.
func runRepair(ctx context.Context, o *options, l *loaded, f repairFlags, stdout, stderr io.Writer) error {
	c := o.client(l.cfg)
	defer c.Close()
	repairOpts := append([]repair.Option{repair.WithForce(f.force), repair.WithAudit(f.audit), repair.WithCreateTargets(f.create...)}, f.signFlags.options()...)
	if err := reconcileAudit(ctx, c, f, repairOpts, stdout, stderr); err != nil {
		return err
	}
	rep, err := inspect.Run(ctx, l.rel, append(l.inspectOptions(c, false, f.suffixes), inspect.WithCreateTargets(f.create...))...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("repair %s: interrupted while inspecting", describeRelease(l.rel))
		}
		return asUsage(err)
	}
	if none, why := nothingChecked(rep); none {
		return fmt.Errorf("repair %s: nothing could be checked, nothing was re-merged: %s", describeRelease(l.rel), why)
	}

	spent := sayQuotas(rep, stderr, ": nothing re-merged into it")
	finish := func(s *repairSummary) error { return brokenAlso(f.finish(stdout, l.rel, s), spent) }
	s := &repairSummary{rep: rep, f: f, cfg: l.cfg}
	pairs := s.selectPairs()
	if len(pairs) == 0 {
		s.collect(pairs)
		fmt.Fprintln(stdout, "nothing to re-merge")
		return finish(s)
	}
	// The report is seconds old, so the plans take what it saw missing as
	// missing.
	repairOpts = append(repairOpts, repair.WithFreshReport(true))
	r := newPairRunner(c, l, f, repairOpts, newRepairOutput(stdout, stderr, isTerminal(stdout)), repair.InFlight(o.concurrency), pairs)
	if err := r.phases(ctx, stdout, pairs); err != nil {
		return err
	}
	s.collect(pairs)
	return finish(s)
}

// phases runs the pairs as the flags say: --dry-run plans and prints;
// --yes executes each pair as soon as it is planned; otherwise every plan
// is shown first, a person says yes to all of them at once, and then they
// run. It returns the run's error when it ends early (interrupted, a dry
// run, declined); nil when the closing summary is to follow.
func (r *pairRunner) phases(ctx context.Context, stdout io.Writer, pairs []*pair) error {
	interrupted := func() error {
		return fmt.Errorf("repair %s: interrupted: %w", describeRelease(r.l.rel), ctx.Err())
	}
	switch {
	case r.f.dryRun:
		r.run(ctx, "planning", pairs, r.printPlan)
	case r.f.yes:
		r.run(ctx, "re-merging", pairs, r.printPlanAndResult)
	default:
		r.run(ctx, "planning", pairs, r.reportPlanError)
		for _, p := range pairs {
			if p.Plan != nil && p.Plan.Refusal == "" { // a refusal is said once, in the closing summary
				fmt.Fprint(stdout, p.Plan.String())
			}
		}
	}
	if ctx.Err() != nil {
		return interrupted()
	}
	todo := actionable(pairs)
	switch {
	case r.f.dryRun:
		fmt.Fprintf(stdout, "dry run: %d re-merge(s) planned, nothing written\n", len(todo))
		return errBroken // nothing was fixed
	case len(todo) == 0:
		fmt.Fprintln(stdout, "nothing to re-merge")
	case !r.f.yes:
		ok, err := confirm(stdout, fmt.Sprintf("Re-merge %d backend/target pair(s)?", len(todo)))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "aborted: nothing written")
			return errBroken
		}
		r.run(ctx, "re-merging", todo, r.printResult)
		if ctx.Err() != nil {
			return interrupted()
		}
	}
	return nil
}

// sayQuotas says on stderr which registries stopped answering for their
// pull quota (the cause and the way out, then note), and reports whether
// any did. Their state was not read: what was not judged there is unknown,
// and repair writes nothing into them (selectPairs leaves them out).
func sayQuotas(rep *release.Report, stderr io.Writer, note string) bool {
	spent := rep.SpentQuotas()
	for _, m := range spent {
		fmt.Fprintf(stderr, "remerge: %s%s\n", m, note)
	}
	return len(spent) > 0
}

// brokenAlso is err, or errBroken (exit 1) when err is nil and b.
func brokenAlso(err error, b bool) error {
	if err == nil && b {
		return errBroken
	}
	return err
}

// reconcileAudit settles the audit log's re-merges left open by a run that
// was killed, before anything else touches the registries, and says what
// it found. An intent it cannot read back yet is a warning: it stays open
// for the next run.
func reconcileAudit(ctx context.Context, c *registry.Client, f repairFlags, opts []repair.Option, stdout, stderr io.Writer) error {
	recs, err := repair.Reconcile(ctx, c, opts...)
	if err != nil {
		if f.audit != "" {
			return usagef("--audit %s: %w", f.audit, err)
		}
		return err
	}
	for _, r := range recs {
		in := r.Intent
		what := fmt.Sprintf("an interrupted re-merge of %s into %s (%s, %s)", in.Backend, in.Target, in.ID, in.Time.Format(time.RFC3339))
		if r.Err != nil {
			fmt.Fprintf(stderr, "remerge: audit: could not reconcile %s yet: %s\n", what, oneLine(r.Err.Error()))
			continue
		}
		fmt.Fprintf(stdout, "audit: reconciled %s: tags moved: %s; not moved: %s\n", what, listOrNone(r.Line.TagsMoved), listOrNone(r.Line.TagsNotMoved))
		for _, u := range r.Line.TagsUnknown {
			fmt.Fprintf(stderr, "remerge: audit: %s: could not read back %s\n", what, u)
		}
	}
	return nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
