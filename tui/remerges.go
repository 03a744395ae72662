package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// maxParallelRepairs bounds the re-merges in flight. Each one's requests
// still go through the client's per-registry limit, which is what bounds
// the load on a registry; this bounds memory and the rows in motion.
const maxParallelRepairs = 8

// remerges schedules the re-merges the user confirmed: a queue, at most
// maxParallelRepairs in flight, each a job with an id that its messages
// carry, so an answer of a job since dropped is recognised. The re-merge
// itself is the Service's; remerges only decides when to call it, and
// keeps what the rows show (queued, running, finished) and what a finished
// one left behind (its outcome, for c and e). The view model holds one
// and asks it; the status line, layout and styles stay in the view model.
type remerges struct {
	svc Service
	// jobs: suffix -> its queued or running job.
	jobs  map[string]jobState
	queue []string
	// running counts jobs in flight.
	running int
	seq     int
	// finished: suffix -> whether its re-merge worked, shown on its row
	// until the re-inspection that follows the last one.
	finished map[string]bool
	// outcomes: suffix -> the outcome of its last re-merge.
	outcomes map[string]Outcome
	// since the last note: how many ended, which failed, any unsigned.
	ended    int
	failed   []string
	unsigned bool
}

func newRemerges(svc Service) remerges {
	return remerges{svc: svc, jobs: map[string]jobState{}, finished: map[string]bool{}, outcomes: map[string]Outcome{}}
}

// busy reports whether suffix is queued or running.
func (q *remerges) busy(suffix string) bool {
	_, ok := q.jobs[suffix]
	return ok
}

// idle reports whether nothing is queued or running.
func (q *remerges) idle() bool { return q.running == 0 && len(q.queue) == 0 }

// enqueue queues re-merges of suffixes not already queued or running.
func (q *remerges) enqueue(suffixes []string) {
	for _, s := range suffixes {
		if q.busy(s) {
			continue
		}
		q.seq++
		q.jobs[s] = jobState{Job: q.seq}
		q.queue = append(q.queue, s)
		delete(q.finished, s)
	}
}

// start starts queued re-merges up to maxParallelRepairs in flight, on
// backends of r inspected with run, and returns their commands (nil when
// none starts). A queued backend r no longer holds is dropped.
func (q *remerges) start(ctx context.Context, r *release.Report, run string) tea.Cmd {
	var cmds []tea.Cmd
	for q.running < maxParallelRepairs && len(q.queue) > 0 {
		s := q.queue[0]
		q.queue = q.queue[1:]
		b := findBackend(r, s)
		j, ok := q.jobs[s]
		if b == nil || !ok {
			delete(q.jobs, s)
			continue
		}
		j.Running = true
		q.jobs[s] = j
		q.running++
		job, ch := q.repairJob(ctx, j.Job, run, b.Clone())
		cmds = append(cmds, job, listen(ch))
	}
	return tea.Batch(cmds...)
}

// repairJob runs one re-merge; its progress and outcome go to the returned
// stream as RepairProgressMsg and RepairDoneMsg tagged with job. The job
// returns when the re-merge is done, whoever reads the stream.
func (q *remerges) repairJob(ctx context.Context, job int, run string, b *release.BackendReport) (tea.Cmd, <-chan tea.Msg) {
	svc := q.svc
	pub, ch := newStream(ctx)
	return func() tea.Msg {
		defer pub.Close()
		out, err := svc.Repair(ctx, run, b, func(p Progress) {
			if p.Suffix == "" {
				p.Suffix = b.Suffix
			}
			pub.Publish(RepairProgressMsg{Job: job, Suffix: b.Suffix, Progress: p})
		})
		if out.Suffix == "" {
			out.Suffix = b.Suffix
		}
		pub.Publish(RepairDoneMsg{Job: job, Suffix: b.Suffix, Outcome: out, Err: err})
		return nil
	}, ch
}

// progress records a running job's step; false means msg answers no
// current job and was dropped.
func (q *remerges) progress(msg RepairProgressMsg) bool {
	j, ok := q.jobs[msg.Suffix]
	if !ok || j.Job != msg.Job {
		return false
	}
	j.Progress = msg.Progress
	q.jobs[msg.Suffix] = j
	return true
}

// finish records the end of a job and returns its outcome (failed when
// msg carries an error); false means msg answers no current job.
func (q *remerges) finish(msg RepairDoneMsg) (Outcome, bool) {
	j, ok := q.jobs[msg.Suffix]
	if !ok || j.Job != msg.Job {
		return Outcome{}, false
	}
	delete(q.jobs, msg.Suffix)
	q.running--
	out := msg.Outcome
	if msg.Err != nil {
		out.OK = false
		if out.Text == "" {
			out.Text = msg.Err.Error()
		}
	}
	q.outcomes[msg.Suffix] = out
	q.finished[msg.Suffix] = out.OK
	q.ended++
	if !out.OK {
		q.failed = append(q.failed, msg.Suffix)
	}
	if len(out.Commands) > 0 {
		q.unsigned = true
	}
	return out, true
}

// note summarises the re-merges that ended since the last note, once the
// queue is done: how many worked, which failed, and that what was
// published is unsigned. It is "" while re-merges remain.
func (q *remerges) note() string {
	if !q.idle() || q.ended == 0 {
		return ""
	}
	note := fmt.Sprintf("re-merged %d of %d", q.ended-len(q.failed), q.ended)
	if len(q.failed) > 0 {
		note += " (failed: " + strings.Join(q.failed, " ") + ")"
	}
	if q.unsigned {
		note += "; new lists are unsigned (c copies the cosign commands, e writes them to a file)"
	}
	q.ended, q.failed, q.unsigned = 0, nil, false
	return note
}

// signCommands are the cosign commands of every re-merge of the session,
// by backend in r's order, targets in order within each.
func (q *remerges) signCommands(r *release.Report) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, b := range r.Backends {
		out = append(out, q.outcomes[b.Suffix].Commands...)
	}
	return out
}
