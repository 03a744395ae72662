package repair

import (
	"context"
	"slices"
	"sync"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// This file is the one orchestrator of a release's re-merge: the CLI's
// repair verb and the TUI (through internal/app) both run their
// (backend, target) pairs through a Batch, and differ only in how they
// show progress.

// Job is one (backend, target) pair of a batch and what became of it.
// Run fills in what it does; the caller reads the outcome off the job.
type Job struct {
	Backend *release.BackendReport
	Target  string

	// Plan is made by the batch when nil. A plan a person confirmed is
	// given here, so that exactly what was shown is what runs.
	Plan    *Plan
	PlanErr error
	// Result and ExecErr are the execution's, when the plan wrote.
	Result  *Result
	ExecErr error
}

// Writes reports whether the job's plan will write something (Plan.Writes).
func (j *Job) Writes() bool { return j.PlanErr == nil && j.Plan.Writes() }

// Failed reports whether planning or executing the job failed.
func (j *Job) Failed() bool { return j.PlanErr != nil || j.ExecErr != nil }

// Writes reports whether Execute would write anything for this plan: a
// re-merge, or a signature on a healthy list (SignOnly). A refused or
// healthy plan writes nothing. It is the one answer to "will this plan
// write?".
func (p *Plan) Writes() bool {
	return p != nil && p.Refusal == "" && (!p.NoOp || p.SignOnly)
}

// InFlight is how many jobs to work on at once for a per-registry limit
// of perRegistry requests (--concurrency): the registries' own bound is
// that limit; this only keeps enough jobs going to fill it. A job has one
// request in flight at a time and the jobs are spread over the targets'
// registries, so a limit of 16 needs well over 32 jobs to stay busy.
func InFlight(perRegistry int) int { return max(32, 4*perRegistry) }

// DefaultInFlight is InFlight at the client's default limit.
var DefaultInFlight = InFlight(registry.DefaultConcurrency)

// Batch plans and executes jobs on a bounded pool of workers, all through
// one client (so its per-registry limits hold for the whole batch), and
// carries on past a failed job: each job's outcome is its own.
type Batch struct {
	Client  *registry.Client
	Config  release.Config
	Release release.Release
	// InFlight is the most jobs worked on at once; 0 is DefaultInFlight.
	InFlight int
	// Options go to every NewPlan and Execute of the batch, after the
	// batch's own: one Session and one TagLister shared by every job.
	Options []Option
	// Events, when set, gives each job about to execute its own progress
	// function (WithEvents). Events of one job come one at a time; those
	// of different jobs may come at once.
	Events func(*Job) func(Event)
	// Done, when set, is called once per job when the batch is finished
	// with it, from the job's worker: calls may come at once.
	Done func(*Job)

	once sync.Once
	opts []Option
}

// options are the batch's shared options followed by the caller's.
func (b *Batch) options() []Option {
	b.once.Do(func() {
		b.opts = append([]Option{WithSession(&Session{}), WithTagLister(&published.TagLister{})}, b.Options...)
	})
	return b.opts
}

// Plan plans every job that has no plan yet, reading only.
func (b *Batch) Plan(ctx context.Context, jobs []*Job) {
	b.run(ctx, jobs, b.plan)
}

// Execute plans every job that has no plan yet, and executes every job
// whose plan writes, each as soon as it is planned. A failed job does not
// stop the others; no job starts once ctx is cancelled.
func (b *Batch) Execute(ctx context.Context, jobs []*Job) {
	b.run(ctx, jobs, func(ctx context.Context, j *Job) {
		b.plan(ctx, j)
		if !j.Writes() {
			return
		}
		opts := slices.Clip(b.options())
		if b.Events != nil {
			opts = append(opts, WithEvents(b.Events(j)))
		}
		j.Result, j.ExecErr = Execute(ctx, b.Client, j.Plan, opts...)
	})
}

func (b *Batch) plan(ctx context.Context, j *Job) {
	if j.Plan != nil || j.PlanErr != nil {
		return
	}
	j.Plan, j.PlanErr = NewPlan(ctx, b.Client, b.Config, b.Release, j.Backend, j.Target, b.options()...)
}

// run calls fn on every job, InFlight at a time, then Done.
func (b *Batch) run(ctx context.Context, jobs []*Job, fn func(context.Context, *Job)) {
	b.options()
	inFlight := b.InFlight
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}
	next := make(chan *Job)
	var wg sync.WaitGroup
	for range min(inFlight, len(jobs)) {
		wg.Go(func() {
			for j := range next {
				if ctx.Err() == nil {
					fn(ctx, j)
				}
				if b.Done != nil {
					b.Done(j)
				}
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}
