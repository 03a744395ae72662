package tui

import (
	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
)

// EventMsg carries one inspection event into Update. InspectID names the
// inspection it belongs to, so that events of an inspection superseded by a
// refresh are dropped instead of painting over the new one.
type EventMsg struct {
	InspectID int
	Event     inspect.Event
}

// InspectDoneMsg ends inspection InspectID with its final report (which
// replaces the one built from events) or the error that stopped it.
type InspectDoneMsg struct {
	InspectID int
	Report    *release.Report
	Err       error
}

// RunsMsg answers the run picker PickerID with the runs anchored in the
// anchor repo, newest first. A picker closed or reopened since the request
// has another id, and its late answer is dropped.
type RunsMsg struct {
	PickerID int
	Runs     []release.AnchorRun
	Err      error
}

// PlanMsg answers a plan request for the backend Suffix of the report of
// inspection InspectID (the one on screen when it was asked). Plans are cached per suffix until the next
// inspection, since a plan is only true of the state it was computed from:
// a PlanMsg of an inspection since superseded is dropped, never shown in
// a confirmation (issue 18, item 11).
type PlanMsg struct {
	InspectID int
	Suffix    string
	Plan      Plan
	Err       error
}

// RepairProgressMsg reports one step of re-merge Job on backend Suffix.
type RepairProgressMsg struct {
	Job      int
	Suffix   string
	Progress Progress
}

// RepairDoneMsg ends re-merge Job on backend Suffix. When the queue of
// re-merges is empty the model re-inspects, so the verdict on screen is
// always one the registries gave, never one assumed from the outcome.
type RepairDoneMsg struct {
	Job     int
	Suffix  string
	Outcome Outcome
	Err     error
}

// ExportDoneMsg answers an export request with the files written and the
// absolute directory they are in.
type ExportDoneMsg struct {
	Dir   string
	Paths []string
	Err   error
}

// jobState is what the table shows on a backend's row while a re-merge of it
// is queued or running.
type jobState struct {
	Job      int
	Running  bool
	Progress Progress
}

// planState is the cached answer for one backend's plan.
type planState struct {
	Loading bool
	Plan    Plan
	Err     error
}
