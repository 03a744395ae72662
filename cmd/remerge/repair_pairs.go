package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/repair"
)

// pair is one (backend, target) job of a repair run, with its own step
// lines, printed in one block with its result so that concurrent pairs
// never interleave.
type pair struct {
	*repair.Job
	log strings.Builder
}

func actionable(pairs []*pair) []*pair {
	var out []*pair
	for _, p := range pairs {
		if p.Writes() {
			out = append(out, p)
		}
	}
	return out
}

// pairRunner shows a repair.Batch's work: a status line on a terminal,
// and each pair's block as it finishes.
type pairRunner struct {
	batch *repair.Batch
	l     *loaded
	f     repairFlags
	out   *repairOutput
	// byJob finds a job's pair; written before the batch runs, read only
	// while it does.
	byJob map[*repair.Job]*pair
	// interrupted: errors after ctrl+c are the cancellation's, not news.
	interrupted func() bool
}

func newPairRunner(c *registry.Client, l *loaded, f repairFlags, opts []repair.Option, out *repairOutput, inFlight int, pairs []*pair) *pairRunner {
	r := &pairRunner{l: l, f: f, out: out, byJob: map[*repair.Job]*pair{}}
	for _, p := range pairs {
		r.byJob[p.Job] = p
	}
	r.batch = &repair.Batch{Client: c, Config: l.cfg, Release: l.rel, InFlight: inFlight, Options: opts, Events: r.events}
	return r
}

// run hands pairs to the batch (execute when phase is "re-merging", else
// plan), with the live display counting them and show printing each one
// as it is done.
func (r *pairRunner) run(ctx context.Context, phase string, pairs []*pair, show func(*pair)) {
	r.out.begin(phase, len(pairs))
	defer r.out.end()
	r.interrupted = func() bool { return ctx.Err() != nil }
	r.batch.Done = func(j *repair.Job) {
		p := r.byJob[j]
		if p.Plan != nil || p.PlanErr != nil { // not skipped for ctrl+c
			show(p)
		}
		r.out.pairDone(p.Failed())
	}
	jobs := make([]*repair.Job, len(pairs))
	for i, p := range pairs {
		jobs[i] = p.Job
	}
	if phase == "re-merging" {
		r.batch.Execute(ctx, jobs)
	} else {
		r.batch.Plan(ctx, jobs)
	}
}

// events is a pair's progress as it executes: a heading, then its steps.
func (r *pairRunner) events(j *repair.Job) func(repair.Event) {
	p := r.byJob[j]
	verb := "re-merging %s into %s:"
	if j.Plan.NoOp {
		verb = "signing %s in %s:"
	}
	fmt.Fprintf(&p.log, "\n"+verb+"\n", j.Plan.Suffix, j.Plan.Target)
	return progressPrinter(&p.log, r.out.addBytes)
}

// reportPlanError says on stderr that a pair could not be planned.
func (r *pairRunner) reportPlanError(p *pair) {
	if p.PlanErr != nil && !r.interrupted() {
		r.out.errorf("remerge: %s\n", oneLine(p.PlanErr.Error()))
	}
}

// printPlan is the dry run's: a pair's plan and the bytes it would
// publish, as one block as soon as it is planned.
func (r *pairRunner) printPlan(p *pair) {
	r.reportPlanError(p)
	if p.Plan == nil || p.Plan.Refusal != "" { // a refusal is said once, in the closing summary
		return
	}
	var text strings.Builder
	text.WriteString(p.Plan.String())
	if p.Writes() && !p.Plan.NoOp {
		fmt.Fprintf(&text, "\n%s in %s would publish:\n%s\n", p.Plan.Suffix, p.Plan.Target, p.Plan.ListJSON())
	}
	r.f.signFlags.dryRun(&text, p.Plan)
	r.out.block(text.String(), text.String())
}

// printPlanAndResult is --yes: each pair's plan and result in one block.
func (r *pairRunner) printPlanAndResult(p *pair) {
	r.reportPlanError(p)
	switch {
	case p.Plan == nil:
	case !p.Writes():
		if p.Plan.Refusal == "" { // a refusal is said once, in the closing summary
			r.out.block(p.Plan.String(), "")
		}
	case p.Result == nil && p.ExecErr == nil: // not started: interrupted
	default:
		r.reportExecError(p)
		r.out.block(p.Plan.String()+p.log.String(), p.resultText())
	}
}

// printResult is a confirmed pair's (its plan was shown already).
func (r *pairRunner) printResult(p *pair) {
	if p.Result == nil && p.ExecErr == nil {
		return // not started: interrupted
	}
	r.reportExecError(p)
	r.out.block(p.log.String(), p.resultText())
}

func (r *pairRunner) reportExecError(p *pair) {
	if p.Result != nil {
		p.log.WriteString(p.Result.String())
	}
	if p.ExecErr != nil && !r.interrupted() {
		r.out.errorf("remerge: repair %s in %s: %s\n", p.Plan.Suffix, p.Plan.Target, oneLine(p.ExecErr.Error()))
	}
}

// resultText is what a terminal shows of an executed pair: its result,
// without the step lines the live display stands for.
func (p *pair) resultText() string {
	if p.Result == nil {
		return fmt.Sprintf("%s in %s: failed: %s\n", p.Plan.Suffix, p.Plan.Target, oneLine(p.ExecErr.Error()))
	}
	return p.Result.String()
}
