package repair

import (
	"context"
	"sync"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestBatchCarriesOnPastAFailure: one job of a batch fails to plan (a
// target the config does not name), one is refused, and the others still
// run to a verified re-merge; every job's outcome is its own, Done hears
// of each once, and only the jobs that write get progress.
func TestBatchCarriesOnPastAFailure(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	conflict := w.incidentReport()
	conflict.Verdict = release.VerdictConflict
	jobs := []*Job{
		{Backend: w.incidentReport(), Target: "nope"},
		{Backend: conflict, Target: "quay"},
		{Backend: w.incidentReport(), Target: "quay"},
		{Backend: w.incidentReport(), Target: "dockerhub"},
	}
	var mu sync.Mutex
	done := map[*Job]int{}
	evented := map[*Job]int{}
	b := &Batch{Client: w.c, Config: w.cfg, Release: w.rel, InFlight: 1,
		Options: []Option{WithAudit(w.audit), withUser("tester")},
		Events: func(j *Job) func(Event) {
			return func(Event) { mu.Lock(); evented[j]++; mu.Unlock() }
		},
		Done: func(j *Job) { mu.Lock(); done[j]++; mu.Unlock() },
	}
	b.Execute(context.Background(), jobs)

	if jobs[0].PlanErr == nil || !jobs[0].Failed() || jobs[0].Writes() {
		t.Errorf("job into an unknown target: plan error %v, want one", jobs[0].PlanErr)
	}
	if jobs[1].Plan == nil || jobs[1].Plan.Refusal == "" || jobs[1].Result != nil || jobs[1].Writes() {
		t.Errorf("conflict: plan %v, result %v; want a refusal and nothing run", jobs[1].Plan, jobs[1].Result)
	}
	for _, j := range jobs[2:] {
		if j.Failed() || j.Result == nil || !j.Result.Verified {
			t.Errorf("%s: plan err %v, exec err %v, result %v; want a verified re-merge after the failure", j.Target, j.PlanErr, j.ExecErr, j.Result)
		}
		if evented[j] == 0 {
			t.Errorf("%s: no progress", j.Target)
		}
	}
	for i, j := range jobs {
		if done[j] != 1 {
			t.Errorf("job %d: Done called %d times, want once", i, done[j])
		}
		if i < 2 && evented[j] != 0 {
			t.Errorf("job %d wrote nothing but got %d events", i, evented[j])
		}
	}
}

// TestBatchStartsNothingOnceCancelled: a cancelled batch plans and runs
// no job, and still tells Done of each.
func TestBatchStartsNothingOnceCancelled(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	jobs := []*Job{{Backend: w.incidentReport(), Target: "quay"}, {Backend: w.incidentReport(), Target: "dockerhub"}}
	n := 0
	var mu sync.Mutex
	(&Batch{Client: w.c, Config: w.cfg, Release: w.rel, Done: func(*Job) { mu.Lock(); n++; mu.Unlock() }}).Execute(ctx, jobs)
	for _, j := range jobs {
		if j.Plan != nil || j.PlanErr != nil || j.Result != nil {
			t.Errorf("%s: ran after cancel: %+v", j.Target, j)
		}
	}
	if n != len(jobs) {
		t.Errorf("Done called %d times, want %d", n, len(jobs))
	}
}

// TestPlanWrites is the one "will this plan write?" answer.
func TestPlanWrites(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		p    *Plan
		want bool
	}{
		{"none", nil, false},
		{"refused", &Plan{Refusal: "conflict"}, false},
		{"healthy", &Plan{NoOp: true}, false},
		{"healthy but unsigned", &Plan{NoOp: true, SignOnly: true}, true},
		{"re-merge", &Plan{}, true},
	} {
		if got := tt.p.Writes(); got != tt.want {
			t.Errorf("%s: Writes() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
