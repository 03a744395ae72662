// Package app joins the libraries to the TUI: it implements tui.Service over
// inspect and repair, and runs the loopback demo. It holds no logic of its
// own beyond gluing, so the TUI stays presentation and the libraries stay
// free of terminal code.
package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/repair"
	"github.com/go-skynet/remerge/tui"
)

// Service is what the TUI drives: one release, one config, one client (so
// registry limits and Retry-After pauses are shared by probes and repairs).
type Service struct {
	Release inspect.Release
	Config  inspect.Config
	Matrix  *inspect.Matrix
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
func (s *Service) Inspect(ctx context.Context, run string, fn func(inspect.Event)) (*inspect.Report, error) {
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
func (s *Service) Runs(ctx context.Context) ([]inspect.AnchorRun, error) {
	return inspect.Runs(ctx, s.Client, s.Config)
}

// Plan plans the re-merge of b into every target, reading only. run is the
// run b's digests came from ("" keeps s.Release.Run).
func (s *Service) Plan(ctx context.Context, run string, b *inspect.BackendReport) (tui.Plan, error) {
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
func (s *Service) release(run string) inspect.Release {
	rel := s.Release
	if run != "" {
		rel.Run = run
	}
	return rel
}

func (s *Service) plans(ctx context.Context, run string, b *inspect.BackendReport) ([]*repair.Plan, error) {
	var out []*repair.Plan
	for _, t := range s.Config.Targets {
		opts := []repair.Option{repair.WithForce(s.Force)}
		if s.Signer != nil {
			// The plan says whether a healthy list here still needs signing.
			opts = append(opts, repair.WithSign(s.Signer))
		}
		p, err := repair.NewPlan(ctx, s.Client, s.Config, s.release(run), b, t.Name, opts...)
		if err != nil {
			return nil, fmt.Errorf("planning %s into %s: %w", b.Suffix, t.Name, err)
		}
		out = append(out, p)
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
		case p.NoOp && !p.SignOnly:
		default:
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
// only for a batch re-merge, whose confirmation shows a count): every
// runnable target plan in config order, stopping at the first failure so
// the report says exactly what happened. A shown plan the world has moved
// away from since (a tag changed, a child gone) fails at its execute-time
// checks and says so; nothing unshown is ever run. run is as for Plan,
// and is what the audit log records.
func (s *Service) Repair(ctx context.Context, run string, b *inspect.BackendReport, fn func(tui.Progress)) (tui.Outcome, error) {
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
	var lines []string
	steps := 0
	for _, p := range plans {
		if p.Refusal == "" && (!p.NoOp || p.SignOnly) {
			steps++
		}
	}
	done := 0
	for _, p := range plans {
		switch {
		case p.Refusal != "":
			lines = append(lines, p.Target+": not re-merged: "+p.Refusal)
			continue
		case p.NoOp && !p.SignOnly:
			lines = append(lines, p.Target+": nothing to do, already healthy")
			continue
		}
		done++
		target := p.Target
		prefix := fmt.Sprintf("%s (%d/%d)", target, done, steps)
		var last tui.Progress
		var signOpt repair.Option
		if s.Signer != nil {
			signOpt = repair.WithSign(s.Signer)
		}
		res, err := repair.Execute(ctx, s.Client, p, signOpt,
			repair.WithForce(s.Force),
			repair.WithAudit(s.Audit),
			repair.WithEvents(func(e repair.Event) {
				switch e := e.(type) {
				case repair.StepEvent:
					last = tui.Progress{Suffix: b.Suffix, Step: e.Index, Steps: e.Total, Text: prefix + ": " + e.Text}
				case repair.BytesEvent:
					last.Bytes, last.TotalBytes = e.Done, e.Total
				}
				if fn != nil {
					fn(last)
				}
			}))
		if res != nil {
			lines = append(lines, strings.TrimRight(res.String(), "\n"))
			if res.Unsigned() {
				out.Commands = append(out.Commands, res.CosignCommand())
			}
		}
		if err != nil {
			out.Text = strings.Join(lines, "\n")
			return out, fmt.Errorf("re-merging %s into %s: %w", b.Suffix, target, err)
		}
	}
	out.OK = true
	out.Text = strings.Join(lines, "\n")
	return out, nil
}
