package app

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/report"
	"github.com/go-skynet/remerge/tui"
)

// OpenTUI runs the terminal UI over svc until the user quits: the one way
// both binaries (remerge, remerge-demo) open it, so they show the same
// program with the same markdown export.
func OpenTUI(ctx context.Context, svc *Service) error {
	m := tui.New(svc, tui.WithContext(ctx), tui.WithMarkdown(report.WriteMarkdown))
	if _, err := tea.NewProgram(m, tea.WithContext(ctx)).Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}
