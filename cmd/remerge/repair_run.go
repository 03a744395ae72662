package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/repair"
)

// pairsPerSlot is how many (backend, target) pairs are planned or
// executed at once per slot of the per-registry limit (--concurrency). The
// registries' own bound is that limit; this only keeps enough pairs going
// to fill it: a pair has one request in flight at a time, and half of the
// pairs are on each target's registry, so a limit of 16 needs well over 32
// pairs to stay busy. At least minPairsInFlight.
const (
	pairsPerSlot     = 4
	minPairsInFlight = 32
)

// runRepair is the body of `remerge repair` once its flags are valid:
// reconcile the audit log, inspect the selected backends, plan every
// (backend, target) pair, and unless --dry-run ask, execute, and report
// what is still broken. Pairs are planned and executed concurrently, all
// through one client, so its per-registry limits hold for the whole run.
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
	// One listing per target at most, shared by every plan, and only when
	// an image's labels cannot say whether latest may move; one writer
	// (pings, tokens) for every re-merge; and the report is seconds old,
	// so the plans take what it saw missing as missing.
	repairOpts = append(repairOpts, repair.WithTagLister(&inspect.TagLister{}), repair.WithSession(&repair.Session{}), repair.WithFreshReport(true))
	r := &pairRunner{c: c, l: l, f: f, opts: repairOpts, out: newRepairOutput(stdout, stderr, isTerminal(stdout)),
		inFlight: max(minPairsInFlight, pairsPerSlot*o.concurrency)}

	switch {
	case f.dryRun:
		r.run(ctx, "planning", pairs, r.planOnly(true))
	case f.yes:
		r.run(ctx, "re-merging", pairs, r.planAndExecute)
	default:
		// A person says yes to every plan at once, so all of them are shown
		// first, in order.
		r.run(ctx, "planning", pairs, r.planOnly(false))
		for _, p := range pairs {
			if p.plan != nil && p.plan.Refusal == "" { // a refusal is said once, in the closing summary
				fmt.Fprint(stdout, p.plan.String())
			}
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("repair %s: interrupted: %w", describeRelease(l.rel), ctx.Err())
	}
	todo := actionable(pairs)
	switch {
	case f.dryRun:
		s.collect(pairs)
		fmt.Fprintf(stdout, "dry run: %d re-merge(s) planned, nothing written\n", len(todo))
		return errBroken // nothing was fixed
	case len(todo) == 0:
		s.collect(pairs)
		fmt.Fprintln(stdout, "nothing to re-merge")
		return finish(s)
	case !f.yes:
		ok, err := confirm(stdout, fmt.Sprintf("Re-merge %d backend/target pair(s)?", len(todo)))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "aborted: nothing written")
			return errBroken
		}
		r.run(ctx, "re-merging", todo, r.execute)
		if ctx.Err() != nil {
			return fmt.Errorf("repair %s: interrupted: %w", describeRelease(l.rel), ctx.Err())
		}
	}
	s.collect(pairs)
	return finish(s)
}

// sayQuotas says on stderr which registries stopped answering for their
// pull quota (the cause and the way out, then note), and reports whether
// any did. Their state was not read: what was not judged there is unknown,
// and repair writes nothing into them (selectPairs leaves them out).
func sayQuotas(rep *inspect.Report, stderr io.Writer, note string) bool {
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

// pair is one (backend, target) of a repair run and what became of it.
type pair struct {
	b      *inspect.BackendReport
	target string

	plan    *repair.Plan
	planErr error
	res     *repair.Result
	execErr error
	// log is the pair's own step lines, printed in one block with its
	// result so that concurrent pairs never interleave.
	log strings.Builder
}

// writes reports whether the pair's plan will write something.
func (p *pair) writes() bool {
	return p.planErr == nil && p.plan != nil && p.plan.Refusal == "" && (!p.plan.NoOp || p.plan.SignOnly)
}

func actionable(pairs []*pair) []*pair {
	var out []*pair
	for _, p := range pairs {
		if p.writes() {
			out = append(out, p)
		}
	}
	return out
}

// pairRunner plans and executes pairs on a bounded pool of workers, all
// through one client.
type pairRunner struct {
	// inFlight is the most pairs worked on at once.
	inFlight int
	c        *registry.Client
	l        *loaded
	f        repairFlags
	opts     []repair.Option
	out      *repairOutput
}

// run calls fn on every pair, inFlight at a time, with the live
// display (or nothing, off a terminal) counting them. No new pair starts
// once ctx is cancelled.
func (r *pairRunner) run(ctx context.Context, phase string, pairs []*pair, fn func(context.Context, *pair)) {
	r.out.begin(phase, len(pairs))
	defer r.out.end()
	next := make(chan *pair)
	var wg sync.WaitGroup
	for range min(r.inFlight, len(pairs)) {
		wg.Go(func() {
			for p := range next {
				if ctx.Err() == nil {
					fn(ctx, p)
				}
				r.out.pairDone(p.failed())
			}
		})
	}
	for _, p := range pairs {
		next <- p
	}
	close(next)
	wg.Wait()
}

func (p *pair) failed() bool {
	return p.planErr != nil || p.execErr != nil
}

func (r *pairRunner) plan(ctx context.Context, p *pair) {
	p.plan, p.planErr = repair.NewPlan(ctx, r.c, r.l.cfg, r.l.rel, p.b, p.target, r.opts...)
	if p.planErr != nil && ctx.Err() == nil {
		r.out.errorf("remerge: %s\n", oneLine(p.planErr.Error()))
	}
}

// planOnly plans a pair; with print (the dry run) its plan and the bytes
// it would publish are printed as one block as soon as it is planned.
func (r *pairRunner) planOnly(print bool) func(context.Context, *pair) {
	return func(ctx context.Context, p *pair) {
		r.plan(ctx, p)
		if !print || p.plan == nil {
			return
		}
		if p.plan.Refusal != "" {
			return // said once, in the closing summary
		}
		var text strings.Builder
		text.WriteString(p.plan.String())
		if p.writes() && !p.plan.NoOp {
			fmt.Fprintf(&text, "\n%s in %s would publish:\n%s\n", p.plan.Suffix, p.plan.Target, p.plan.ListJSON())
		}
		r.f.signFlags.dryRun(&text, p.plan)
		r.out.block(text.String(), text.String())
	}
}

// planAndExecute is --yes: each pair is executed as soon as it is planned,
// and printed in one block, plan and result.
func (r *pairRunner) planAndExecute(ctx context.Context, p *pair) {
	r.plan(ctx, p)
	if p.plan == nil {
		return
	}
	if !p.writes() {
		if p.plan.Refusal == "" { // a refusal is said once, in the closing summary
			r.out.block(p.plan.String(), "")
		}
		return
	}
	r.exec(ctx, p)
	r.out.block(p.plan.String()+p.log.String(), p.resultText())
}

// execute is a pair whose plan was confirmed (and shown already).
func (r *pairRunner) execute(ctx context.Context, p *pair) {
	r.exec(ctx, p)
	r.out.block(p.log.String(), p.resultText())
}

func (r *pairRunner) exec(ctx context.Context, p *pair) {
	verb := "re-merging %s into %s:"
	if p.plan.NoOp {
		verb = "signing %s in %s:"
	}
	fmt.Fprintf(&p.log, "\n"+verb+"\n", p.plan.Suffix, p.plan.Target)
	progress := progressPrinter(&p.log, r.out.addBytes)
	p.res, p.execErr = repair.Execute(ctx, r.c, p.plan, append(slices.Clip(r.opts), repair.WithEvents(progress))...)
	if p.res != nil {
		p.log.WriteString(p.res.String())
	}
	if p.execErr != nil && ctx.Err() == nil {
		r.out.errorf("remerge: repair %s in %s: %s\n", p.plan.Suffix, p.plan.Target, oneLine(p.execErr.Error()))
	}
}

// resultText is what a terminal shows of an executed pair: its result,
// without the step lines the live display stands for.
func (p *pair) resultText() string {
	if p.res == nil {
		return fmt.Sprintf("%s in %s: failed: %s\n", p.plan.Suffix, p.plan.Target, oneLine(p.execErr.Error()))
	}
	return p.res.String()
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
