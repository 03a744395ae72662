package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
	"github.com/go-skynet/remerge/tui"
)

// OpenTUI runs the terminal UI over svc until the user quits: the one way
// both binaries (remerge, remerge-demo) open it, so they show the same
// program with the same markdown export.
func OpenTUI(ctx context.Context, svc tui.Service) error {
	m := tui.New(svc, tui.WithContext(ctx), tui.WithMarkdown(report.WriteMarkdown))
	if _, err := tea.NewProgram(m, tea.WithContext(ctx)).Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// ErrBroken says the command ran and what it printed is the answer: some
// backend is not ok (exit 1). It carries no message of its own. Both
// binaries return it, so both exit alike.
var ErrBroken = errors.New("something is broken")

// PrintTable is what both binaries do instead of opening the TUI when stdout
// is not a terminal: the plain table of rep, and ErrBroken (exit 1) when
// anything is broken. It prints only the table: `remerge inspect` also says
// on stderr what could not be checked and which pull quota is spent.
func PrintTable(w io.Writer, rep *release.Report) error {
	if err := report.WriteTable(w, rep, 0); err != nil {
		return err
	}
	if rep.Summary.Broken() {
		return ErrBroken
	}
	return nil
}
