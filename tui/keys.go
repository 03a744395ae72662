package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the TUI answers to. There is one, built by
// DefaultKeyMap and owned by the Model, so the help screen and the key
// handling can never disagree.
type KeyMap struct {
	Up, Down         key.Binding
	PageUp, PageDown key.Binding
	Home, End        key.Binding
	DetailUp         key.Binding
	DetailDown       key.Binding
	// DetailLeft and DetailRight scroll the detail pane's unwrapped lines
	// (the cosign commands) sideways.
	DetailLeft  key.Binding
	DetailRight key.Binding
	// Move is Up and Down as one entry of the short help.
	Move key.Binding

	Filter      key.Binding
	ClearFilter key.Binding
	Broken      key.Binding
	NotBuilt    key.Binding
	Sort        key.Binding
	Details     key.Binding

	Repair    key.Binding
	RepairAll key.Binding
	Refresh   key.Binding
	Runs      key.Binding
	Release   key.Binding
	Copy      key.Binding
	Export    key.Binding

	Confirm key.Binding
	Cancel  key.Binding
	// Select picks the run under the cursor in the run picker.
	Select key.Binding

	Help key.Binding
	Quit key.Binding
}

// DefaultKeyMap returns the bindings of the issue: vi and arrow movement,
// one letter per action, y/n in dialogs.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:          b([]string{"up", "k"}, "↑/k", "up"),
		Down:        b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:      b([]string{"pgup"}, "pgup", "page up"),
		PageDown:    b([]string{"pgdown"}, "pgdn", "page down"),
		Home:        b([]string{"home", "g"}, "home/g", "first"),
		End:         b([]string{"end", "G"}, "end/G", "last"),
		DetailUp:    b([]string{"ctrl+u"}, "ctrl+u", "detail up"),
		DetailDown:  b([]string{"ctrl+d"}, "ctrl+d", "detail down"),
		DetailLeft:  b([]string{"left", "h"}, "←/h", "detail left"),
		DetailRight: b([]string{"right", "l"}, "→/l", "detail right"),
		Move:        b([]string{"up", "down", "k", "j"}, "↑↓", "move"),

		Filter:      b([]string{"/"}, "/", "filter"),
		ClearFilter: b([]string{"esc"}, "esc", "clear filter"),
		Broken:      b([]string{"b"}, "b", "broken only"),
		NotBuilt:    b([]string{"a"}, "a", "show not built"),
		Sort:        b([]string{"s"}, "s", "sort"),
		Details:     b([]string{"enter"}, "enter", "details"),

		Repair:    b([]string{"r"}, "r", "re-merge"),
		RepairAll: b([]string{"R"}, "R", "re-merge all"),
		Refresh:   b([]string{"ctrl+r"}, "ctrl+r", "re-inspect"),
		Runs:      b([]string{"u"}, "u", "runs"),
		Release:   b([]string{"i"}, "i", "release info"),
		Copy:      b([]string{"c"}, "c", "copy"),
		Export:    b([]string{"e"}, "e", "export"),

		Confirm: b([]string{"y", "enter"}, "y/enter", "confirm"),
		Cancel:  b([]string{"n", "esc"}, "n/esc", "cancel"),
		Select:  b([]string{"enter"}, "enter", "select"),

		Help: b([]string{"?"}, "?", "help"),
		Quit: b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp is the one-line help under the table: the keys a maintainer
// needs in the first minute. shortHelpFit drops from it, never help and
// quit, when the screen is narrow.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Move, k.Details, k.Repair, k.Filter, k.Broken, k.Copy, k.Help, k.Quit}
}

// shortHelpDrop is the order in which the short help loses entries to a
// narrow screen: help and quit are never dropped.
func (k KeyMap) shortHelpDrop() []key.Binding {
	return []key.Binding{k.Copy, k.Broken, k.Move, k.Filter, k.Details, k.Repair}
}

// FullHelp is the ? screen, one column per concern; three columns, so it
// fits a dialog at 80 columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.DetailUp, k.DetailDown, k.DetailLeft, k.DetailRight},
		{k.Filter, k.ClearFilter, k.Broken, k.NotBuilt, k.Sort, k.Details, k.Help, k.Quit},
		{k.Repair, k.RepairAll, k.Refresh, k.Runs, k.Release, k.Copy, k.Export},
	}
}

// dialogKeys is the help shown inside a confirmation dialog.
type dialogKeys struct {
	KeyMap
	canConfirm bool
}

// ShortHelp lists confirm only when the plan may run.
func (d dialogKeys) ShortHelp() []key.Binding {
	if d.canConfirm {
		return []key.Binding{d.Confirm, d.Cancel}
	}
	return []key.Binding{d.Cancel}
}

// FullHelp is the short help: a dialog has nothing more.
func (d dialogKeys) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

// pickerKeys is the help shown inside the run picker.
type pickerKeys struct {
	KeyMap
	canSelect bool
}

// ShortHelp lists select only when there is a run to pick.
func (p pickerKeys) ShortHelp() []key.Binding {
	if p.canSelect {
		return []key.Binding{p.Up, p.Down, p.Select, p.Cancel}
	}
	return []key.Binding{p.Cancel}
}

// FullHelp is the short help: the picker has nothing more.
func (p pickerKeys) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }
