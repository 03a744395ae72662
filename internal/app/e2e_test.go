package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testreg"
	"github.com/go-skynet/remerge/tui"
)

// TestTUIRemergesARepairableBackend drives the real program against real
// registries: it waits for the live inspection, selects the reaped
// -cpu-kokoro (next to its prefix twin -cpu-kokoros), re-merges it with r and
// a confirmation, and watches its verdict turn ok on the re-inspection.
func TestTUIRemergesARepairableBackend(t *testing.T) {
	ctx := context.Background()
	backends := []scenario.Backend{
		{Suffix: "-cpu-llama-cpp", Kind: inspect.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-kokoro", Kind: inspect.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-kokoros", Kind: inspect.KindMultiarch, Fate: scenario.Reaped},
	}
	f := scenario.Start(t, backends, testreg.ImageOptions{})
	seeded, m, quay := f.Seeded, f.Matrix, f.Quay
	client := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	svc := &app.Service{Release: seeded.Release, Config: seeded.Config, Matrix: m, Client: client, Audit: t.TempDir() + "/audit.jsonl"}

	tm := teatest.NewTestModel(t, tui.New(svc, tui.WithContext(ctx), tui.WithNoColor(true)), teatest.WithInitialTermSize(160, 48))
	screen := newScreen(160, 48)
	waitFor := func(what string) {
		t.Helper()
		start := time.Now()
		// The renderer sends only changed cells, so the text is looked for
		// on the screen a terminal would show, not in the byte stream.
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			screen.write(b)
			return strings.Contains(screen.text(), what)
		}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
		screen.consumed()
		t.Logf("saw %q after %s", what, time.Since(start).Round(time.Millisecond))
	}
	waitFor("inspected 3 backends: 2 need attention")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: 'r', Text: "r"})
	waitFor("Re-merge -cpu-kokoro?")
	waitFor("y/enter confirm") // shown once the plan has loaded and can run
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	// Intermediate statuses (steps, "re-merged") may be coalesced by the
	// renderer; the re-inspection's summary is the durable end state.
	waitFor("re-merged 1 of 1; new lists are unsigned (c copies the cosign command) · inspected 3 backends: 1 need attention")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(tui.Model)
	got := map[string]inspect.Verdict{}
	for _, b := range final.Report().Backends {
		got[b.Suffix] = b.Verdict
	}
	want := map[string]inspect.Verdict{"-cpu-llama-cpp": inspect.VerdictOK, "-cpu-kokoro": inspect.VerdictOK, "-cpu-kokoros": inspect.VerdictRepairable}
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

// screen replays the program's output into a terminal emulator. WaitFor
// hands the condition everything read so far in that call, so screen feeds
// the emulator only the bytes it has not seen yet.
type screen struct {
	emu  *vt.Emulator
	seen int
}

func newScreen(w, h int) *screen {
	emu := vt.NewEmulator(w, h)
	// Drain the emulator's answers to terminal queries, or its writes
	// block. The goroutine ends with the test binary: vt's Close races
	// with a pending Read, so it is not called.
	go func() { _, _ = io.Copy(io.Discard, emu) }()
	return &screen{emu: emu}
}

func (s *screen) write(b []byte) {
	if len(b) > s.seen {
		_, _ = s.emu.Write(b[s.seen:])
		s.seen = len(b)
	}
}

// consumed starts a new WaitFor call's count from zero.
func (s *screen) consumed() { s.seen = 0 }

func (s *screen) text() string { return s.emu.String() }
