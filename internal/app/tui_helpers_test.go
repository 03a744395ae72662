package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/tui"
)

// startTUI runs the real program at 160x48 over the seeded fixture,
// inspecting rel, and returns it with waitFor, which blocks until every
// given text is on the screen, and every text given as "!text" is not
// (failing the test after a minute). Each with changes the service first,
// as the CLI's flags would.
func startTUI(t *testing.T, f *scenariotest.Fixture, rel release.Release, with ...func(*app.Service)) (*teatest.TestModel, func(what ...string)) {
	t.Helper()
	client := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	svc := &app.Service{Release: rel, Config: f.Seeded.Config, Matrix: f.Matrix, Client: client, Audit: t.TempDir() + "/audit.jsonl"}
	for _, w := range with {
		w(svc)
	}
	tm := teatest.NewTestModel(t, tui.New(svc, tui.WithContext(context.Background()), tui.WithNoColor(true)), teatest.WithInitialTermSize(160, 48))
	screen := newScreen(160, 48)
	waitFor := func(what ...string) {
		t.Helper()
		start := time.Now()
		// The renderer sends only changed cells, so the text is looked for
		// on the screen a terminal would show, not in the byte stream.
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			screen.write(b)
			text := screen.text()
			for _, w := range what {
				if gone, ok := strings.CutPrefix(w, "!"); ok {
					if strings.Contains(text, gone) {
						return false
					}
				} else if !strings.Contains(text, w) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
		screen.consumed()
		t.Logf("saw %q after %s", what, time.Since(start).Round(time.Millisecond))
	}
	return tm, waitFor
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
