package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/tui"
)

// TestTUIRemergesARepairableBackend drives the real program against real
// registries: it waits for the live inspection, selects the reaped
// -cpu-kokoro (next to its prefix twin -cpu-kokoros), re-merges it with r and
// a confirmation, and watches its verdict turn ok on the re-inspection.
func TestTUIRemergesARepairableBackend(t *testing.T) {
	ctx := context.Background()
	backends := []scenario.Backend{
		{Suffix: "-cpu-llama-cpp", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-kokoros", Kind: release.KindMultiarch, Fate: scenario.Reaped},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	seeded, quay := f.Seeded, f.Quay
	tm, waitFor := startTUI(t, f, seeded.Release)
	waitFor("inspected 3 backends: 2 need attention")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: 'r', Text: "r"})
	waitFor("Re-merge -cpu-kokoro?")
	waitFor("y/enter confirm") // shown once the plan has loaded and can run
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	// Intermediate statuses (steps, "re-merged") may be coalesced by the
	// renderer; the re-inspection's summary is the durable end state.
	waitFor("re-merged 1 of 1; new lists are unsigned (c copies the cosign commands, e writes them to a file) · inspected 3 backends: 1 need attention")
	// The detail pane shows the sign command on a line of its own, and c
	// copies it (the status says the copy went by OSC 52).
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("Sign  ←/→ scroll", "cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 ")
	tm.Send(tea.KeyPressMsg{Code: 'c', Text: "c"})
	waitFor("copied the cosign command of -cpu-kokoro (by OSC 52")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(tui.Model)
	got := map[string]release.Verdict{}
	for _, b := range final.Report().Backends {
		got[b.Suffix] = b.Verdict
	}
	want := map[string]release.Verdict{"-cpu-llama-cpp": release.VerdictOK, "-cpu-kokoro": release.VerdictOK, "-cpu-kokoros": release.VerdictRepairable}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s on screen: %s, want %s", s, got[s], v)
		}
	}
	// The registries agree with the screen: quay now serves the list CI
	// would have published.
	d, err := quay.Resolve(ctx, scenario.QuayTarget, "v4.2.2-cpu-kokoro")
	if err != nil || d != seeded.Lists["-cpu-kokoro"] {
		t.Errorf("quay v4.2.2-cpu-kokoro -> %s (%v), want %s", d, err, seeded.Lists["-cpu-kokoro"])
	}
	if _, err := quay.Resolve(ctx, scenario.QuayTarget, "v4.2.2-cpu-kokoros"); err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(strings.ToLower(err.Error()), "unknown") {
		t.Errorf("-cpu-kokoros was touched: %v", err)
	}
}
