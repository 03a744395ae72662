// Package tui is remerge's terminal face: one root Bubble Tea model that
// shows a release's backends live as the inspection fills them in, a detail
// pane per backend, and one-key re-merges with a confirmation.
//
// The package only presents and dispatches: every registry call goes
// through the Service interface, which cmd/ wires to inspect and repair.
// Work leaves Update as a named command method and comes back as a
// documented message carrying the id of what it answers (see messages.go);
// an answer to something superseded is dropped. A job publishes into its
// own stream (newStream), which never blocks it, and listen reads the
// stream for Update. Boxes over the screen are a stack of dialogs, the
// front one taking the keys (dialogs.go), and confirmed re-merges are run
// by a scheduler of their own (remerges.go), not by the view model.
package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/pubsub"
	"github.com/go-skynet/remerge/internal/release"
)

// Service is everything the TUI asks of the outside world. It is an
// interface so that the TUI can be driven by a scripted fake in tests and by
// the real inspect and repair packages in the binary.
type Service interface {
	// Inspect runs one inspection with the CI run whose anchors give the
	// digests; run "" means the service's own default (its --run, else the
	// newest run in the anchor repo). The model passes the run the user
	// picked, so which run is on screen is model state, never service state.
	// Events arrive through fn (any goroutine, never concurrently); returns
	// the final report.
	Inspect(ctx context.Context, run string, fn func(inspect.Event)) (*release.Report, error)
	// Runs lists the CI runs anchored in the anchor repo, newest first, for
	// the run picker.
	Runs(ctx context.Context) ([]release.AnchorRun, error)
	// Plan describes the re-merge of one backend into every target that
	// needs it, without writing anything. run is the run of the report b
	// comes from (its Release.Run), so the plan and the audit log name the
	// run whose digests are re-merged.
	Plan(ctx context.Context, run string, b *release.BackendReport) (Plan, error)
	// Repair executes it, reporting progress through fn; run as for Plan.
	// fn may be called from any goroutine, also concurrently (targets may
	// run side by side); the TUI's only queues the progress, never blocks.
	Repair(ctx context.Context, run string, b *release.BackendReport, fn func(Progress)) (Outcome, error)
}

// Plan is what a re-merge would do, shown in the confirmation dialog and the
// detail pane before anything is written.
type Plan struct {
	Suffix string
	// Runnable is false when the re-merge must not run (unrepairable,
	// conflict, darwin); Refusal then says why.
	Runnable bool
	Refusal  string
	// Text is the multi-line human plan: sources, tags, what moves.
	Text string
	// NoOp is true when the backend is already healthy: nothing to do.
	NoOp bool
}

// Progress is one step of a running re-merge, shown on the backend's row.
type Progress struct {
	Suffix      string
	Step, Steps int
	Text        string
	// Bytes and TotalBytes count blob bytes of a cross-registry copy; zero
	// when no bytes move (same-registry mounts).
	Bytes, TotalBytes int64
}

// Outcome is the result of one re-merge.
type Outcome struct {
	Suffix string
	OK     bool
	// Text is the human summary, including the "unsigned: sign it with:
	// cosign sign ..." line of every list published unsigned.
	Text string
	// Commands are the cosign commands that sign what was published, one
	// per target, in target order: c copies them all, e writes them to a
	// file.
	Commands []string
}

// maxBatch bounds how many queued messages one listen call delivers, so that
// a flood of probe answers costs one render instead of hundreds.
const maxBatch = 256

// streamMsg delivers the messages a background job queued since the last
// delivery. ch is the job's stream, listened to again unless Closed.
type streamMsg struct {
	ch     <-chan tea.Msg
	Msgs   []tea.Msg
	Closed bool
}

// listen waits for the next messages of a background job's stream. The
// stream ends (and its channel closes) when the job is done or its context
// ends; listen never blocks the UI because Bubble Tea runs commands off
// the update loop.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		first, ok := <-ch
		if !ok {
			return streamMsg{ch: ch, Closed: true}
		}
		out := streamMsg{ch: ch, Msgs: []tea.Msg{first}}
		for len(out.Msgs) < maxBatch {
			select {
			case m, ok := <-ch:
				if !ok {
					out.Closed = true
					return out
				}
				out.Msgs = append(out.Msgs, m)
			default:
				return out
			}
		}
		return out
	}
}

// newStream is the way a background job's messages reach Update: the job
// publishes, which never blocks (so a screen that stops reading never
// stalls a probe or an upload, and the service's callbacks return at
// once); listen reads the subscription on the UI's side. Progress messages
// coalesce, latest wins; every other message is delivered, in order (see
// internal/pubsub). The subscription ends with ctx.
func newStream(ctx context.Context) (*pubsub.Broker[tea.Msg], <-chan tea.Msg) {
	pub := pubsub.New(progressKey)
	return pub, pub.Subscribe(ctx)
}

// progressKey names the messages that only count (probes answered, a
// re-merge's step and bytes): a newer one replaces an undelivered older one
// of its job.
func progressKey(msg tea.Msg) (string, bool) {
	switch msg := msg.(type) {
	case EventMsg:
		_, ok := msg.Event.(inspect.ProgressEvent)
		return "progress", ok
	case RepairProgressMsg:
		return "repair", true
	}
	return "", false
}

// inspectCmd runs one inspection with run ("" for the service's default)
// and listens to it: its events and its final report come back as EventMsg
// and InspectDoneMsg tagged with id.
func (m Model) inspectCmd(ctx context.Context, id int, run string) tea.Cmd {
	job, ch := m.inspectJob(ctx, id, run)
	return tea.Batch(job, listen(ch))
}

// inspectJob is the inspection alone and the stream it publishes into; the
// job returns when the inspection is done, whoever reads the stream.
func (m Model) inspectJob(ctx context.Context, id int, run string) (tea.Cmd, <-chan tea.Msg) {
	svc := m.svc
	pub, ch := newStream(ctx)
	return func() tea.Msg {
		defer pub.Close()
		rep, err := svc.Inspect(ctx, run, func(ev inspect.Event) {
			pub.Publish(EventMsg{InspectID: id, Event: ev})
		})
		pub.Publish(InspectDoneMsg{InspectID: id, Report: rep, Err: err})
		return nil
	}, ch
}

// runsCmd lists the runs anchored in the anchor repo for the picker that
// id names; the answer comes back as RunsMsg.
func (m Model) runsCmd(ctx context.Context, id int) tea.Cmd {
	svc := m.svc
	return func() tea.Msg {
		runs, err := svc.Runs(ctx)
		return RunsMsg{PickerID: id, Runs: runs, Err: err}
	}
}

// planCmd asks for the re-merge plan of one backend of the report of
// inspection id; b must be a copy the model no longer mutates. The answer
// carries id, so a plan of a report since replaced is dropped.
func (m Model) planCmd(ctx context.Context, id int, b *release.BackendReport) tea.Cmd {
	svc, run := m.svc, m.reportRun()
	return func() tea.Msg {
		p, err := svc.Plan(ctx, run, b)
		if p.Suffix == "" {
			p.Suffix = b.Suffix
		}
		return PlanMsg{InspectID: id, Suffix: b.Suffix, Plan: p, Err: err}
	}
}

// reportRun is the run the report on screen was inspected with (the one the
// engine resolved when none was picked), or "" before the first report.
func (m Model) reportRun() string {
	if m.report == nil {
		return ""
	}
	return m.report.Release.Run
}
