package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/repair"
)

// runRepair is the body of `remerge repair` once its flags are valid:
// inspect the selected backends, plan each (backend, target), print the
// plans, and unless --dry-run ask, execute, and report what is still
// broken. It returns errBroken (exit 1) when anything is left broken.
func runRepair(ctx context.Context, o *options, l *loaded, f repairFlags, stdout, stderr io.Writer) error {
	c := o.client(l.cfg)
	defer c.Close()
	rep, err := inspect.Run(ctx, l.rel, l.inspectOptions(c, false, f.suffixes)...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("repair %s: interrupted while inspecting", describeRelease(l.rel))
		}
		return asUsage(err)
	}

	repairOpts := append([]repair.Option{repair.WithForce(f.force), repair.WithAudit(f.audit)}, f.signFlags.options()...)
	var plans []*repair.Plan
	broken := false
	// left says, per backend and target, why something stays broken; it is
	// the closing summary, so a long plan listing does not hide it.
	var left []string
	for _, b := range f.selected(rep) {
		for _, t := range f.targetNames(l.cfg) {
			p, err := repair.NewPlan(ctx, c, l.cfg, l.rel, b, t, repairOpts...)
			if err != nil {
				fmt.Fprintf(stderr, "remerge: %s\n", oneLine(err.Error()))
				broken = true
				left = append(left, fmt.Sprintf("%s in %s: could not plan: %s", b.Suffix, t, oneLine(err.Error())))
				continue
			}
			fmt.Fprint(stdout, p.String())
			switch {
			case p.Refusal != "":
				broken = true
				left = append(left, fmt.Sprintf("%s in %s: %s", b.Suffix, t, p.Refusal))
			case !p.NoOp, f.wants(b, t):
				plans = append(plans, p)
			}
		}
	}
	if len(plans) == 0 {
		fmt.Fprintln(stdout, "nothing to re-merge")
		return f.finish(stdout, l.rel, left, broken)
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
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("repair %s in %s: interrupted: %w", p.Suffix, p.Target, err)
			}
			fmt.Fprintf(stderr, "remerge: repair %s in %s: %s\n", p.Suffix, p.Target, oneLine(err.Error()))
			broken = true
			left = append(left, fmt.Sprintf("%s in %s: failed: %s", p.Suffix, p.Target, oneLine(err.Error())))
			continue
		}
		if !res.NoOp && !res.Verified {
			broken = true
			left = append(left, fmt.Sprintf("%s in %s: published, but the tags did not read back as %s", p.Suffix, p.Target, p.ListDigest))
		}
	}
	return f.finish(stdout, l.rel, left, broken)
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

// summarize closes the run with what is left broken and why, per backend
// and target; errBroken (exit 1) when anything is.
func summarize(w io.Writer, left []string, broken bool) error {
	if len(left) > 0 {
		fmt.Fprintf(w, "\nleft broken:\n")
		for _, l := range left {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return brokenIf(broken)
}

func brokenIf(b bool) error {
	if b {
		return errBroken
	}
	return nil
}
