package tui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/tui"
)

// finishes runs cmd and fails the test if it has not returned after a
// minute: a hang guard, not a timing assertion.
func finishes(t *testing.T, what string, cmd func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); cmd() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not finish while the screen read nothing", what)
	}
}

// drain reads a finished job's stream to its end.
func drain(ch <-chan tea.Msg) []tea.Msg {
	var out []tea.Msg
	for msg := range ch {
		out = append(out, msg)
	}
	return out
}

// TestUnreadScreenStallsNothing runs an inspection and a re-merge against
// real loopback registries with a screen that never reads their streams.
// Both finish: publishing an event never waits for the screen (before the
// broker, the 257th event blocked the inspection's callback, under the
// engine's lock, and every prober with it). The inspection here has more
// than 256 events, and the re-merge copies bytes across registries.
func TestUnreadScreenStallsNothing(t *testing.T) {
	backends := []scenario.Backend{{Suffix: "-cpu-moonshine", Kind: release.KindMultiarch, Fate: scenario.CrossOnly}}
	for i := range 19 {
		backends = append(backends, scenario.Backend{Suffix: fmt.Sprintf("-cpu-healthy%02d", i), Kind: release.KindMultiarch, Fate: scenario.Healthy})
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	client := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	svc := &app.Service{Release: f.Seeded.Release, Config: f.Seeded.Config, Matrix: f.Matrix, Client: client,
		Audit: t.TempDir() + "/audit.jsonl"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	job, unread := tui.InspectUnread(ctx, svc)
	finishes(t, "the inspection", func() { job() })
	// Only now does the screen read: everything is there, in order,
	// the final report last.
	msgs := drain(unread)
	events := 0
	for _, msg := range msgs {
		if _, ok := msg.(tui.EventMsg); ok {
			events++
		}
	}
	done, ok := msgs[len(msgs)-1].(tui.InspectDoneMsg)
	if !ok || done.Err != nil || done.Report == nil {
		t.Fatalf("the stream ends with %#v, want the inspection's report", msgs[len(msgs)-1])
	}
	if events <= 256 {
		t.Fatalf("only %d events: the test needs more than the old channel's 256 to mean anything", events)
	}
	rep := done.Report
	var broken *release.BackendReport
	for _, b := range rep.Backends {
		if b.Suffix == "-cpu-moonshine" {
			broken = b
		}
	}
	if broken == nil || broken.Verdict != release.VerdictRepairable {
		t.Fatalf("-cpu-moonshine is %+v, want repairable", broken)
	}
	job, unread = tui.RepairUnread(ctx, svc, rep.Release.Run, broken)
	finishes(t, "the re-merge", func() { job() })
	msgs = drain(unread)
	if end, ok := msgs[len(msgs)-1].(tui.RepairDoneMsg); !ok || end.Err != nil || !end.Outcome.OK {
		t.Fatalf("the re-merge's stream ends with %#v, want its outcome", msgs[len(msgs)-1])
	}
	rep, err := svc.Inspect(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Backends {
		if b.Suffix == "-cpu-moonshine" && b.Verdict != release.VerdictOK {
			t.Errorf("after the unread re-merge -cpu-moonshine is %s: %q", b.Verdict, b.Problems)
		}
	}
}
