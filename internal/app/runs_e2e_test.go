package app_test

import (
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

// TestTUIPicksAnAnchoredRun opens the real program without --run: the
// engine takes the newest anchored run, u lists both runs the scenario
// anchored (the release's and, for every third backend, an older one), and
// picking the older one re-inspects with it.
func TestTUIPicksAnAnchoredRun(t *testing.T) {
	backends := []scenario.Backend{
		{Suffix: "-cpu-llama-cpp", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-whisper", Kind: release.KindMultiarch, Fate: scenario.Healthy},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	rel := scenario.DefaultRelease()
	noRun := f.Seeded.Release
	noRun.Run = "" // as without --run
	tm, waitFor := startTUI(t, f, noRun)
	waitFor("v4.2.2 · run "+rel.Run, "inspected 3 backends")
	tm.Send(tea.KeyPressMsg{Code: 'u', Text: "u"})
	// Only the reaped backend keeps its two anchors of the release's run
	// (a good merge deletes them); the first of every three backends also
	// has an anchor of the older run.
	waitFor("Runs anchored in "+f.Seeded.Config.Anchor,
		"▸ "+rel.Run+"     2 anchors  newest · ● on screen",
		"  "+rel.OldRun+"     1 anchor ")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("v4.2.2 · run "+rel.OldRun, "✓ probes")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(tui.Model)
	if got := final.Report().Release.Run; got != rel.OldRun {
		t.Errorf("run of the report on screen = %q, want the older run %s", got, rel.OldRun)
	}
	// The older run anchored one leg (the first backend's first), so that
	// is the only digest taken from the anchor repo now; the newest run
	// gave every leg.
	var anchored []string
	for _, b := range final.Report().Backends {
		for _, l := range b.Legs {
			if l.DigestFrom == release.FromAnchor {
				anchored = append(anchored, b.Suffix+" "+l.PlatformTag)
			}
		}
	}
	if want := backends[0].Suffix + " amd64"; len(anchored) != 1 || anchored[0] != want {
		t.Errorf("legs from the anchor repo = %q, want only %q", anchored, want)
	}
}
