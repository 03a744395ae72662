package tui

// confirm is the confirmation at the front of the stack, or nil.
func (m Model) confirm() *confirmDialog {
	if d, ok := m.dialogs.front().(confirmDialog); ok {
		return &d
	}
	return nil
}

// picker is the run picker at the front of the stack, or nil.
func (m Model) picker() *runPicker {
	if p, ok := m.dialogs.front().(runPicker); ok {
		return &p
	}
	return nil
}

// showRelease reports whether the release pane is at the front.
func (m Model) showRelease() bool {
	_, ok := m.dialogs.front().(releasePane)
	return ok
}
