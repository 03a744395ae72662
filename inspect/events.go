package inspect

import "github.com/go-skynet/remerge/internal/release"

// Event is delivered to the WithEvents callback as soon as a fact is known,
// so a UI can paint the grid live. Events are delivered one at a time, in
// the order of the changes, from a goroutine of their own (see WithEvents),
// and carry copies: the receiver may keep them.
type Event interface{ isEvent() }

// StartEvent is the first event: the skeleton of the report (every backend,
// leg and repo, all cells pending) and the number of probes to expect.
type StartEvent struct {
	Report *release.Report
	Probes int
}

// DigestEvent says which digest a leg is expected to have and where it came
// from.
type DigestEvent struct {
	Suffix      string
	PlatformTag string
	Digest      string
	From        release.DigestSource
}

// CellEvent is one (leg, repo) probe answer.
type CellEvent struct {
	Suffix      string
	PlatformTag string
	Repo        string
	Cell        release.Cell
}

// TagEvent is one (backend, target, tag) resolution.
type TagEvent struct {
	Suffix string
	Target string // target name
	Tag    string
	Status release.TagStatus
}

// BackendEvent carries a backend whose probes have all answered, with its
// verdict, problems and impact.
type BackendEvent struct {
	Backend *release.BackendReport
}

// ProgressEvent counts answered probes.
type ProgressEvent struct {
	Done, Total int
}

func (StartEvent) isEvent()    {}
func (DigestEvent) isEvent()   {}
func (CellEvent) isEvent()     {}
func (TagEvent) isEvent()      {}
func (BackendEvent) isEvent()  {}
func (ProgressEvent) isEvent() {}
