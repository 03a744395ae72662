package main

import (
	"context"
	"fmt"
	"io"

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
	opts := []inspect.Option{
		inspect.WithConfig(l.cfg),
		inspect.WithMatrix(l.matrix),
		inspect.WithClient(c),
		inspect.WithBackends(f.suffixes...),
	}
	if l.digests != nil {
		opts = append(opts, inspect.WithDigests(l.digests))
	}
	rep, err := inspect.Run(ctx, l.rel, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("repair %s: interrupted while inspecting", describeRelease(l.rel))
		}
		return asUsage(err)
	}

	repairOpts := []repair.Option{repair.WithForce(f.force), repair.WithAudit(f.audit)}
	var plans []*repair.Plan
	broken := false
	for _, b := range f.selected(rep) {
		for _, t := range f.targetNames(l.cfg) {
			p, err := repair.NewPlan(ctx, c, l.cfg, l.rel, b, t, repairOpts...)
			if err != nil {
				fmt.Fprintf(stderr, "remerge: %s\n", oneLine(err.Error()))
				broken = true
				continue
			}
			fmt.Fprint(stdout, p.String())
			switch {
			case p.Refusal != "":
				broken = true
			case !p.NoOp:
				plans = append(plans, p)
			}
		}
	}
	if len(plans) == 0 {
		fmt.Fprintln(stdout, "nothing to re-merge")
		return brokenIf(broken)
	}
	if f.dryRun {
		for _, p := range plans {
			fmt.Fprintf(stdout, "\n%s in %s would publish:\n%s\n", p.Suffix, p.Target, p.ListJSON())
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
	progress := repair.WithEvents(func(e repair.Event) {
		if st, ok := e.(repair.StepEvent); ok {
			fmt.Fprintf(stdout, "  [%d/%d] %s\n", st.Index, st.Total, st.Text)
		}
	})
	for _, p := range plans {
		res, err := repair.Execute(ctx, c, p, append(repairOpts, progress)...)
		if res != nil {
			fmt.Fprint(stdout, res.String())
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("repair %s in %s: interrupted: %w", p.Suffix, p.Target, err)
			}
			fmt.Fprintf(stderr, "remerge: repair %s in %s: %s\n", p.Suffix, p.Target, oneLine(err.Error()))
			broken = true
			continue
		}
		if !res.NoOp && !res.Verified {
			broken = true
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
