package app_test

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
	"github.com/go-skynet/remerge/repair"
	"github.com/go-skynet/remerge/tui"
)

// TestTUISignsARemerge is `remerge tui --sign`: the re-merge of a reaped
// backend started with r signs what it publishes with CI's cosign command
// (the real cosign, a key pair and no transparency log, as --sign-key and
// --cosign-arg would give it). The status no longer says the new list is
// unsigned, the re-inspection shows it signed by the key, and cosign
// verify --key accepts the list and its children in the target. Then r on
// the healthy but unsigned -cpu-llama-cpp offers to sign it, as the help
// of tui --sign promises, and does.
func TestTUISignsARemerge(t *testing.T) {
	kit := tools.NewCosignKit(t)
	t.Setenv("COSIGN_PASSWORD", tools.CosignPassword)
	backends := []scenario.Backend{
		{Suffix: "-cpu-llama-cpp", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	tm, waitFor := startTUI(t, f, f.Seeded.Release, func(s *app.Service) {
		s.Signer = &repair.Signer{Path: kit.Bin, Key: kit.Key, Args: []string{"--tlog-upload=false", "--allow-http-registry"}}
	})
	waitFor("inspected 2 backends: 1 need attention")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: 'r', Text: "r"})
	waitFor("Re-merge -cpu-kokoro?", "y/enter confirm")
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	// No "new lists are unsigned" note; the re-inspection shows both
	// targets' lists signed (✓≠: with a key, not an identity).
	waitFor("re-merged 1 of 1 · inspected 2 backends: 0 need attention", "✓≠ complete  ✓≠ complete")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyUp})
	tm.Send(tea.KeyPressMsg{Code: 'r', Text: "r"})
	waitFor("Re-merge -cpu-llama-cpp?", "already healthy, but unsigned", "y/enter confirm")
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	waitFor("inspected 2 backends: 0 need attention", "!✓∅") // no list left unsigned
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(tui.Model)
	// Every list is signed: the re-merged one in quay, Docker Hub's (complete
	// but found unsigned), and both of -cpu-llama-cpp's.
	for _, b := range final.Report().Backends {
		for _, name := range []string{"quay", "dockerhub"} {
			st := b.Targets[name].Tags["v4.2.2"+b.Suffix]
			if st.State != release.TagComplete || st.Signature == nil || st.Signature.State != release.SigSigned || !st.Signature.Key {
				t.Errorf("%s v4.2.2%s after: %s, signature %+v; want complete and signed with a key", name, b.Suffix, st.State, st.Signature)
			}
		}
	}
	d, err := f.Quay.Resolve(context.Background(), scenario.QuayTarget, "v4.2.2-cpu-kokoro")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := kit.Verify(f.Quay.Repo(scenario.QuayTarget)+"@"+d, true); err != nil {
		t.Errorf("cosign verify --key of the re-merged list: %v\n%s", err, out)
	}
}
