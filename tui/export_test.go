package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// InspectUnread is the first inspection of a model over svc, its stream
// subscribed but never read: a screen that stopped reading. The returned
// command returns when the inspection is done; the channel is the stream.
func InspectUnread(ctx context.Context, svc Service) (tea.Cmd, <-chan tea.Msg) {
	m := New(svc, WithContext(ctx))
	return m.inspectJob(ctx, 1, "")
}

// RepairUnread is one re-merge of b as the TUI's scheduler runs it, its
// stream never read.
func RepairUnread(ctx context.Context, svc Service, run string, b *release.BackendReport) (tea.Cmd, <-chan tea.Msg) {
	q := newRemerges(svc)
	return q.repairJob(ctx, 1, run, b)
}
