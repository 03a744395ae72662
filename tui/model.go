package tui

import (
	"context"
	"io"
	"os"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// Model is the root (and only) tea.Model of the TUI. Children (table,
// detail, dialog) are plain structs it sizes and renders; every side effect
// is a command built by a named method, answered by a message from
// messages.go.
type Model struct {
	// pullsWarned: ctrl+r was pressed once with a warning that a
	// re-inspection would spend more pulls than are left; the next press
	// starts it anyway.
	pullsWarned bool

	svc    Service
	keys   KeyMap
	styles Styles
	help   help.Model
	filter textinput.Model
	table  table
	detail detail
	// dialogs are the boxes over the screen; only the front one takes
	// keys (see dialogs.go).
	dialogs dialogStack

	noColor       bool
	width, height int
	rects         rects

	ctx      context.Context // cancelled on quit: stops every job
	cancel   context.CancelFunc
	startCtx context.Context // the first inspection's, started by Init

	report *release.Report
	// run is the CI run the user picked with the run picker; "" leaves
	// the choice to the service (its --run, else the newest run).
	run       string
	pickerSeq int
	inspectID int
	// reportID is the inspection the report on screen comes from; plans
	// carry it, and an answer of another one is dropped.
	reportID      int
	inspecting    bool
	cancelInspect context.CancelFunc
	probesDone    int
	probesTotal   int

	selected   string // suffix of the selected backend
	filtering  bool
	brokenOnly bool
	// showNotBuilt shows the backends a branch run did not build; hidden
	// by default, they are most of a path-filtered master build.
	showNotBuilt bool
	sort         sortMode
	showDetail   bool

	// plans: suffix -> its plan, of the report of inspection inspectID.
	plans map[string]*planState
	// remerges schedules the confirmed re-merges and keeps their ends.
	remerges remerges

	statusBar statusBar
	// quitArmed: q was pressed once while a re-merge runs.
	quitArmed bool

	exportDir string
	now       func() time.Time
	markdown  func(io.Writer, *release.Report) error
}

// Option configures New. Defaults live in New.
type Option func(*Model)

// WithContext bounds every job the TUI starts: cancelling ctx stops them.
func WithContext(ctx context.Context) Option { return func(m *Model) { m.ctx = ctx } }

// WithKeyMap replaces the default bindings.
func WithKeyMap(k KeyMap) Option { return func(m *Model) { m.keys = k } }

// WithNoColor forces colourless styles (default: the NO_COLOR variable).
func WithNoColor(on bool) Option { return func(m *Model) { m.noColor = on } }

// WithExportDir sets where e writes the report (default: the current dir).
func WithExportDir(dir string) Option { return func(m *Model) { m.exportDir = dir } }

// WithClock sets the clock used in export file names, for tests.
func WithClock(now func() time.Time) Option { return func(m *Model) { m.now = now } }

// WithMarkdown replaces the markdown writer used by e. The default is
// report.WriteMarkdown, the same writer as `remerge inspect --format
// markdown`, so the export and the CLI never disagree.
func WithMarkdown(fn func(io.Writer, *release.Report) error) Option {
	return func(m *Model) { m.markdown = fn }
}

// New builds the TUI over svc. The first inspection starts in Init.
func New(svc Service, opts ...Option) Model {
	m := Model{
		svc:       svc,
		keys:      DefaultKeyMap(),
		noColor:   os.Getenv("NO_COLOR") != "",
		help:      help.New(),
		filter:    textinput.New(),
		ctx:       context.Background(),
		plans:     map[string]*planState{},
		remerges:  newRemerges(svc),
		exportDir: ".",
		now:       time.Now,
		markdown:  report.WriteMarkdown,
		width:     80,
		height:    24,
	}
	for _, o := range opts {
		o(&m)
	}
	m.ctx, m.cancel = context.WithCancel(m.ctx)
	m.filter.Prompt = "/ "
	m.filter.Placeholder = "filter backends"
	m.setStyles(NewStyles(true))
	m.inspectID = 1
	m.inspecting = true
	m.startCtx, m.cancelInspect = context.WithCancel(m.ctx)
	m.statusBar.text = "inspecting…"
	m.layout()
	return m
}

// Init asks the terminal for its background and starts the first
// inspection.
func (m Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.inspectCmd(m.startCtx, m.inspectID, m.run))
}

// setStyles installs styles (or the colourless ones under NO_COLOR) in the
// model and the bubbles it owns.
func (m *Model) setStyles(s Styles) {
	if m.noColor {
		s = PlainStyles()
	}
	m.styles = s
	m.help.Styles = s.Help
	m.filter.SetStyles(s.Filter)
}

// startInspect cancels any running inspection and starts a new one with a
// fresh id, so that late events of the old one are recognised and dropped.
func (m *Model) startInspect() tea.Cmd {
	if m.cancelInspect != nil {
		m.cancelInspect()
	}
	m.inspectID++
	m.inspecting = true
	m.probesDone, m.probesTotal = 0, 0
	var ctx context.Context
	ctx, m.cancelInspect = context.WithCancel(m.ctx)
	return m.inspectCmd(ctx, m.inspectID, m.run)
}

// View renders exactly the window: header, body, status line, help.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "remerge"
	if m.report != nil {
		v.WindowTitle = "remerge " + m.report.Release.Ref
	}
	return v
}

// Report is the report on screen (nil before the first StartEvent); the
// binary uses it for its exit code after the program ends.
func (m Model) Report() *release.Report { return m.report }

// rows are the backends the table shows, filtered and sorted.
func (m Model) rows() []*release.BackendReport {
	return visibleRows(m.report, m.filter.Value(), m.brokenOnly, m.showNotBuilt, m.sort)
}

// cursor is the index of the selected backend in rows, or 0.
func (m Model) cursor(rows []*release.BackendReport) int {
	for i, b := range rows {
		if b.Suffix == m.selected {
			return i
		}
	}
	return 0
}

// selectedBackend is the backend under the cursor, or nil.
func (m Model) selectedBackend() *release.BackendReport {
	rows := m.rows()
	if len(rows) == 0 {
		return nil
	}
	return rows[m.cursor(rows)]
}

// fixSelection keeps the selection on a visible row after the rows change.
func (m *Model) fixSelection() {
	rows := m.rows()
	if len(rows) == 0 {
		return
	}
	i := m.cursor(rows)
	m.selected = rows[i].Suffix
	if m.table.height > tableHeaderLines { // a hidden table keeps its scroll
		m.table.follow(i, len(rows))
	}
}

// setStatus sets the general message of the status line; it replaces any
// row's message.
func (m *Model) setStatus(s string, isErr bool) {
	m.statusBar.set(s, isErr)
	m.layout() // a long message takes a second line
}

// setRowStatus sets a message about backend suffix: shown while that row
// is selected, gone once another is.
func (m *Model) setRowStatus(suffix, s string, isErr bool) {
	m.statusBar.setRow(suffix, s, isErr)
	m.layout()
}
