package repair

import (
	"github.com/go-skynet/remerge/internal/published"
	"github.com/go-skynet/remerge/internal/pubsub"
)

// Option tunes NewPlan and Execute. Both take the same options so a caller
// can build one slice and pass it to both; each ignores what it has no use
// for.
type Option func(*options)

type options struct {
	events    func(Event)
	pub       *pubsub.Broker[Event] // set by startEvents
	force     bool
	auditPath string
	user      string // the audit log's user: set only by tests (user_test.go); else currentUser
	tags      *published.TagLister
	signer    *Signer // WithSign
	session   *Session
	fresh     bool
	create    map[string]bool // WithCreateTargets
}

func makeOptions(opts []Option) options {
	o := options{tags: &published.TagLister{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithEvents delivers progress to fn as Execute runs: one StepEvent per step
// and BytesEvents while blob bytes are copied. fn runs on a goroutine of
// its own, one event at a time, in order, and never under a lock of
// Execute's: a slow fn never stalls a step or an upload (the events wait in
// a queue, see internal/pubsub). Steps are never dropped; a BytesEvent not
// yet delivered is replaced by a newer one of its leg. Execute returns
// once fn has seen the last event, or when ctx ends.
func WithEvents(fn func(Event)) Option {
	return func(o *options) { o.events = fn }
}

// WithCreateTargets names targets whose repo may be created by the
// re-merge (repair --create-target). Without it a target whose repo does
// not exist (inspect's TargetStatus.RepoAbsent: a mistyped name, most
// likely) is refused: a push would create the repo and publish the release
// where no user looks.
func WithCreateTargets(names ...string) Option {
	return func(o *options) {
		if o.create == nil {
			o.create = map[string]bool{}
		}
		for _, n := range names {
			o.create[n] = true
		}
	}
}

// WithForce allows moving a tag that already points to a complete image of
// other digests, and planning a backend whose verdict is conflict: the
// explicit decision of a person (the --force flag).
func WithForce(force bool) Option {
	return func(o *options) { o.force = force }
}

// WithTagLister shares one listing of each target's tags between plans:
// the fallback when an image's labels cannot say whether latest may move.
// Without it each plan lists on its own when it must.
func WithTagLister(l *published.TagLister) Option {
	return func(o *options) {
		if l != nil {
			o.tags = l
		}
	}
}

// WithSession shares one Session between the plans and executions of a
// run: see Session.
func WithSession(s *Session) Option {
	return func(o *options) { o.session = s }
}

// WithFreshReport tells NewPlan the report was taken just now (the CLI
// inspects right before it plans): a cell the report found missing in the
// target is taken as missing without asking again. A cell found present
// is always confirmed by reading the child, fresh report or not; without
// this option a missing cell is asked again, because a report kept on
// screen may predate a re-merge that brought the child back.
func WithFreshReport(fresh bool) Option {
	return func(o *options) { o.fresh = fresh }
}

// WithAudit sets the audit log path; empty keeps the default
// ($XDG_STATE_HOME/remerge/audit.jsonl, see DefaultAuditPath).
func WithAudit(path string) Option {
	return func(o *options) { o.auditPath = path }
}

// Event is progress reported by Execute through WithEvents.
type Event interface{ isEvent() }

// StepEvent announces step Index (1-based) of Total, before it runs.
type StepEvent struct {
	Index, Total int
	Text         string
}

// BytesEvent counts blob bytes copied for one leg (its platform-tag) from
// another registry: Done of Total bytes. Mounts move no bytes and send none.
type BytesEvent struct {
	Leg         string
	Done, Total int64
}

func (StepEvent) isEvent()  {}
func (BytesEvent) isEvent() {}
