package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/repair"
)

// runRepair is the body of `remerge repair` once its flags are valid:
// reconcile the audit log, inspect the selected backends, plan each
// (backend, target), print the plans, and unless --dry-run ask, execute,
// and report what is still broken. It returns errBroken (exit 1) unless
// every backend it answers for is ok afterwards: with --all the whole
// release, else the named backends.
func runRepair(ctx context.Context, o *options, l *loaded, f repairFlags, stdout, stderr io.Writer) error {
	c := o.client(l.cfg)
	defer c.Close()
	repairOpts := append([]repair.Option{repair.WithForce(f.force), repair.WithAudit(f.audit)}, f.signFlags.options()...)
	if err := reconcileAudit(ctx, c, f, repairOpts, stdout, stderr); err != nil {
		return err
	}
	rep, err := inspect.Run(ctx, l.rel, l.inspectOptions(c, false, f.suffixes)...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("repair %s: interrupted while inspecting", describeRelease(l.rel))
		}
		return asUsage(err)
	}
	if none, why := nothingChecked(rep); none {
		return fmt.Errorf("repair %s: nothing could be checked, nothing was re-merged: %s", describeRelease(l.rel), why)
	}

	s := &repairSummary{}
	plans := s.plan(ctx, c, l, f, rep, repairOpts, stdout, stderr)
	if len(plans) == 0 {
		fmt.Fprintln(stdout, "nothing to re-merge")
		return f.finish(stdout, l.rel, s)
	}
	if f.dryRun {
		for _, p := range plans {
			if !p.NoOp {
				fmt.Fprintf(stdout, "\n%s in %s would publish:\n%s\n", p.Suffix, p.Target, p.ListJSON())
			}
			f.signFlags.dryRun(stdout, p)
		}
		fmt.Fprintf(stdout, "dry run: %d re-merge(s) planned, nothing written\n", len(plans))
		return errBroken // nothing was fixed
	}
	if !f.yes {
		ok, err := confirm(stdout, fmt.Sprintf("Re-merge %d backend/target pair(s)?", len(plans)))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "aborted: nothing written")
			return errBroken
		}
	}
	for _, p := range plans {
		if p.NoOp {
			fmt.Fprintf(stdout, "\nsigning %s in %s:\n", p.Suffix, p.Target)
		} else {
			fmt.Fprintf(stdout, "\nre-merging %s into %s:\n", p.Suffix, p.Target)
		}
		res, err := repair.Execute(ctx, c, p, append(repairOpts, repair.WithEvents(progressPrinter(stdout)))...)
		if res != nil {
			fmt.Fprint(stdout, res.String())
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("repair %s in %s: interrupted: %w", p.Suffix, p.Target, err)
		case err != nil:
			fmt.Fprintf(stderr, "remerge: repair %s in %s: %s\n", p.Suffix, p.Target, oneLine(err.Error()))
			s.add("%s in %s: failed: %s", p.Suffix, p.Target, oneLine(err.Error()))
		case !res.NoOp && !res.Verified:
			s.add("%s in %s: published, but the tags did not read back as %s", p.Suffix, p.Target, p.ListDigest)
		}
	}
	return f.finish(stdout, l.rel, s)
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

// repairSummary collects, per backend and target, what repair leaves
// broken and why; it is the closing summary, so a long plan listing does
// not hide it, and its emptiness is the exit code.
type repairSummary struct {
	left []string
}

func (s *repairSummary) add(format string, args ...any) {
	s.left = append(s.left, fmt.Sprintf(format, args...))
}

// plan decides, per backend of the report, what to do: leave it alone
// (with the reason), or plan it in each selected target. It returns the
// plans that will write something.
func (s *repairSummary) plan(ctx context.Context, c *registry.Client, l *loaded, f repairFlags, rep *inspect.Report, opts []repair.Option, stdout, stderr io.Writer) []*repair.Plan {
	var plans []*repair.Plan
	targets := f.targetNames(l.cfg)
	for _, b := range rep.Backends {
		if why := whyLeftAlone(b, f.force); why != "" {
			s.add("%s: %s", b.Suffix, why)
			continue
		}
		if b.Verdict == inspect.VerdictOK && f.all && !f.wantsAny(b) {
			continue
		}
		noop := true
		for _, t := range targets {
			p, err := repair.NewPlan(ctx, c, l.cfg, l.rel, b, t, opts...)
			if err != nil {
				fmt.Fprintf(stderr, "remerge: %s\n", oneLine(err.Error()))
				s.add("%s in %s: could not plan: %s", b.Suffix, t, oneLine(err.Error()))
				noop = false
				continue
			}
			if p.Refusal == "" { // a refusal is said once, in the closing summary
				fmt.Fprint(stdout, p.String())
			}
			switch {
			case p.Refusal != "":
				s.add("%s in %s: %s", b.Suffix, t, p.Refusal)
				noop = false
			case !p.NoOp:
				plans = append(plans, p)
				noop = false
			case f.wants(b, t):
				plans = append(plans, p) // healthy but unsigned: --sign signs it
			}
		}
		if noop && b.Verdict != inspect.VerdictOK {
			s.add("%s: inspect judged it %s (%s), but no selected target needs a change", b.Suffix, b.Verdict, orNone(strings.Join(b.Problems, "; ")))
		}
		s.otherTargets(b, f, l.cfg)
	}
	return plans
}

// otherTargets: with --target, a backend broken in a target not selected
// stays broken there.
func (s *repairSummary) otherTargets(b *inspect.BackendReport, f repairFlags, cfg inspect.Config) {
	if len(f.targets) == 0 || b.Verdict == inspect.VerdictOK {
		return
	}
	for _, t := range cfg.Targets {
		if slices.Contains(f.targets, t.Name) {
			continue
		}
		if ts := b.Targets[t.Name]; ts != nil && ts.State != inspect.TagComplete {
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

// progressPrinter prints each step, and each cross-registry copy once it
// completes (a byte count per leg, not a line per chunk).
func progressPrinter(w io.Writer) func(repair.Event) {
	return func(e repair.Event) {
		switch e := e.(type) {
		case repair.StepEvent:
			fmt.Fprintf(w, "  [%d/%d] %s\n", e.Index, e.Total, e.Text)
		case repair.BytesEvent:
			if e.Total > 0 && e.Done == e.Total {
				fmt.Fprintf(w, "        %s: copied %s from the other registry\n", e.Leg, humanize.IBytes(uint64(e.Done)))
			}
		}
	}
}
