// Package app joins the libraries to the TUI: it implements tui.Service over
// inspect and repair, and opens the TUI. It holds no logic of its
// own beyond gluing, so the TUI stays presentation and the libraries stay
// free of terminal code.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/repair"
	"github.com/go-skynet/remerge/tui"
)

// Service is what the TUI drives: one release, one config, one client (so
// registry limits and Retry-After pauses are shared by probes and repairs).
type Service struct {
	Release release.Release
	Config  release.Config
	Matrix  *release.Matrix
	Digests *inspect.DigestsDir
	Client  *registry.Client
	Deep    bool
	// Audit is the audit log path ("" for the default under the state dir).
	Audit string
	// Force lets a re-merge replace a tag pointing at a complete image of
	// other digests; off unless the user passed --force.
	Force bool
	// Backends restricts the release to these suffixes when not empty.
	Backends []string
	// Signer, when set (tui --sign), signs what a re-merge publishes and
	// a complete list found unsigned, as repair --sign does.
	Signer *repair.Signer

	mu sync.Mutex
	// shown: the plans last shown for each (run, backend): a confirmed
	// re-merge executes these, not a fresh plan the user never saw.
	shown map[string][]*repair.Plan
	// reconciled: the audit log was reconciled once, before the first
	// re-merge of this session.
	reconciled bool
}

var _ tui.Service = (*Service)(nil)

// Inspect runs one inspection of the release with run's anchors; run ""
// keeps s.Release.Run (the --run flag), which the engine resolves to the
// newest anchored run when it too is empty.
func (s *Service) Inspect(ctx context.Context, run string, fn func(inspect.Event)) (*release.Report, error) {
	return inspect.Run(ctx, s.release(run),
		inspect.WithConfig(s.Config),
		inspect.WithMatrix(s.Matrix),
		inspect.WithDigests(s.Digests),
		inspect.WithClient(s.Client),
		inspect.WithDeep(s.Deep),
		inspect.WithBackends(s.Backends...),
		inspect.WithEvents(fn))
}

// Runs lists the runs anchored in the config's anchor repo, newest first,
// through the shared client.
func (s *Service) Runs(ctx context.Context) ([]release.AnchorRun, error) {
	return inspect.Runs(ctx, s.Client, s.Config)
}

// Plan plans the re-merge of b into every target, reading only. run is the
// run b's digests came from ("" keeps s.Release.Run).
func (s *Service) Plan(ctx context.Context, run string, b *release.BackendReport) (tui.Plan, error) {
	plans, err := s.plans(ctx, run, b)
	if err != nil {
		return tui.Plan{Suffix: b.Suffix}, err
	}
	s.mu.Lock()
	if s.shown == nil {
		s.shown = map[string][]*repair.Plan{}
	}
	s.shown[run+"\x00"+b.Suffix] = plans
	s.mu.Unlock()
	return summarise(b.Suffix, plans), nil
}

// confirmed returns (and forgets) the plans last shown for b, or nil.
func (s *Service) confirmed(run, suffix string) []*repair.Plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := run + "\x00" + suffix
	p := s.shown[key]
	delete(s.shown, key)
	return p
}

// reconcile settles, once per session, re-merges a killed run left open in
// the audit log, so what this session appends follows a true record.
func (s *Service) reconcile(ctx context.Context) error {
	s.mu.Lock()
	done := s.reconciled
	s.reconciled = true
	s.mu.Unlock()
	if done {
		return nil
	}
	_, err := repair.Reconcile(ctx, s.Client, repair.WithAudit(s.Audit))
	if err != nil {
		s.mu.Lock()
		s.reconciled = false
		s.mu.Unlock()
		return fmt.Errorf("reconciling the audit log: %w", err)
	}
	return nil
}

// release is s.Release with run, when given, as its run.
func (s *Service) release(run string) release.Release {
	rel := s.Release
	if run != "" {
		rel.Run = run
	}
	return rel
}

// batch is the one re-merge orchestrator (repair.Batch) over the
// service's client, config and release with run.
func (s *Service) batch(run string) *repair.Batch {
	opts := []repair.Option{repair.WithForce(s.Force), repair.WithAudit(s.Audit)}
	if s.Signer != nil {
		// The plan says whether a healthy list here still needs signing,
		// and a re-merge signs what it publishes.
		opts = append(opts, repair.WithSign(s.Signer))
	}
	return &repair.Batch{Client: s.Client, Config: s.Config, Release: s.release(run), Options: opts}
}

// jobs are b's (backend, target) pairs, one per target in config order.
func (s *Service) jobs(b *release.BackendReport) []*repair.Job {
	jobs := make([]*repair.Job, 0, len(s.Config.Targets))
	for _, t := range s.Config.Targets {
		jobs = append(jobs, &repair.Job{Backend: b, Target: t.Name})
	}
	return jobs
}

func (s *Service) plans(ctx context.Context, run string, b *release.BackendReport) ([]*repair.Plan, error) {
	jobs := s.jobs(b)
	s.batch(run).Plan(ctx, jobs)
	var out []*repair.Plan
	for _, j := range jobs {
		if j.PlanErr != nil {
			return nil, fmt.Errorf("planning %s into %s: %w", b.Suffix, j.Target, j.PlanErr)
		}
		if j.Plan == nil {
			return nil, fmt.Errorf("planning %s into %s: %w", b.Suffix, j.Target, ctx.Err())
		}
		out = append(out, j.Plan)
	}
	return out, nil
}

// summarise folds per-target plans into what the confirmation shows.
func summarise(suffix string, plans []*repair.Plan) tui.Plan {
	out := tui.Plan{Suffix: suffix, NoOp: true}
	var text, refusals []string
	for _, p := range plans {
		text = append(text, strings.TrimRight(p.String(), "\n"))
		switch {
		case p.Refusal != "":
			refusals = append(refusals, p.Target+": "+p.Refusal)
			out.NoOp = false
		case p.Writes():
			out.Runnable = true
			out.NoOp = false
		}
	}
	if !out.Runnable && len(refusals) > 0 {
		out.Refusal = strings.Join(refusals, "; ")
	}
	out.Text = strings.Join(text, "\n\n")
	return out
}

// Repair executes the plans the confirmation showed for b (planning afresh
// only for a batch re-merge, whose confirmation shows a count) through
// repair.Batch, as the CLI does: every runnable target plan at once, a
// failed one leaving the others to finish, and the outcome says what
// became of each. A shown plan the world has moved away from since (a tag
// changed, a child gone) fails at its execute-time checks and says so;
// nothing unshown is ever run. run is as for Plan, and is what the audit
// log records.
func (s *Service) Repair(ctx context.Context, run string, b *release.BackendReport, fn func(tui.Progress)) (tui.Outcome, error) {
	out := tui.Outcome{Suffix: b.Suffix}
	if err := s.reconcile(ctx); err != nil {
		return out, err
	}
	plans := s.confirmed(run, b.Suffix)
	if plans == nil {
		var err error
		if plans, err = s.plans(ctx, run, b); err != nil {
			return out, err
		}
	}
	jobs := make([]*repair.Job, 0, len(plans))
	for _, p := range plans {
		jobs = append(jobs, &repair.Job{Backend: b, Target: p.Target, Plan: p})
	}
	batch := s.batch(run)
	batch.Events = progress(b.Suffix, jobs, fn)
	batch.Execute(ctx, jobs)
	return outcome(ctx, out, jobs)
}

// progress gives each writing job its own progress line for the TUI,
// prefixed with its target and its place among the jobs that write.
func progress(suffix string, jobs []*repair.Job, fn func(tui.Progress)) func(*repair.Job) func(repair.Event) {
	steps, place := 0, map[*repair.Job]int{}
	for _, j := range jobs {
		if j.Plan.Writes() {
			steps++
			place[j] = steps
		}
	}
	return func(j *repair.Job) func(repair.Event) {
		prefix := fmt.Sprintf("%s (%d/%d)", j.Target, place[j], steps)
		var last tui.Progress
		return func(e repair.Event) {
			switch e := e.(type) {
			case repair.StepEvent:
				last = tui.Progress{Suffix: suffix, Step: e.Index, Steps: e.Total, Text: prefix + ": " + e.Text}
			case repair.BytesEvent:
				last.Bytes, last.TotalBytes = e.Done, e.Total
			}
			if fn != nil {
				fn(last)
			}
		}
	}
}

// outcome is what the TUI shows of a backend's jobs, in target order: a
// line or a result per target, the cosign commands for what is left
// unsigned, and every failure.
func outcome(ctx context.Context, out tui.Outcome, jobs []*repair.Job) (tui.Outcome, error) {
	suffix := out.Suffix
	var lines []string
	var errs []error
	for _, j := range jobs {
		p := j.Plan
		switch {
		case p.Refusal != "":
			lines = append(lines, p.Target+": not re-merged: "+p.Refusal)
			continue
		case !p.Writes():
			lines = append(lines, p.Target+": nothing to do, already healthy")
			continue
		}
		if j.Result != nil {
			lines = append(lines, strings.TrimRight(j.Result.String(), "\n"))
			if j.Result.Unsigned() {
				out.Commands = append(out.Commands, j.Result.CosignCommand())
			}
		}
		if j.ExecErr != nil {
			errs = append(errs, fmt.Errorf("re-merging %s into %s: %w", suffix, j.Target, j.ExecErr))
		} else if j.Result == nil {
			errs = append(errs, fmt.Errorf("re-merging %s into %s: not started: %w", suffix, j.Target, ctx.Err()))
		}
	}
	out.Text = strings.Join(lines, "\n")
	out.OK = len(errs) == 0
	return out, errors.Join(errs...)
}
