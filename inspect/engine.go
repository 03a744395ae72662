package inspect

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/go-skynet/remerge/internal/pubsub"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

var runIDPattern = regexp.MustCompile(`^[0-9]+$`)

// Run inspects a release: it resolves every leg's expected digest (digests
// folder, keepalive anchors, published lists, in that order), probes each
// digest in every repo and each release tag in every target, and judges each
// backend. Facts are delivered through WithEvents as they arrive; the
// returned report is complete unless ctx was cancelled, in which case the
// partial report is returned with ctx's error.
func Run(ctx context.Context, rel release.Release, opts ...Option) (*release.Report, error) {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if rel.Ref == "" {
		return nil, errors.New("release ref is empty (--release)")
	}
	if rel.Run != "" && !runIDPattern.MatchString(rel.Run) {
		return nil, fmt.Errorf("run id %q: want digits only", rel.Run)
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if s.matrix == nil {
		m, err := release.LoadBackends(s.cfg)
		if err != nil {
			return nil, err
		}
		s.matrix = m
	}
	if s.client == nil {
		s.client = registry.New(registry.Options{Insecure: s.cfg.Insecure})
	}
	// A flat digests folder names no platforms: read them first.
	d, err := ResolveFlatDigests(ctx, s.client, s.cfg, s.digests)
	if err != nil {
		return nil, inputError{err}
	}
	s.digests = d
	e := newEngine(rel, s)
	return e.run(ctx)
}

// engine holds the report being built. Every mutation goes through a method
// that takes mu and publishes the matching event while holding it, so events
// keep the order of the changes. Publishing only queues the event (see
// internal/pubsub): the WithEvents callback runs on the broker's goroutine,
// outside mu, so a slow callback delays no probe and a callback may call
// back into anything without a deadlock.
type engine struct {
	s   settings
	c   *registry.Client
	rep *release.Report
	// pullsBefore is the client's pull count per host when the
	// inspection started (see RegistryBudget.PullsSpent).
	pullsBefore map[string]int

	mu       sync.Mutex
	backends map[string]*release.BackendReport
	done     int
	total    int

	// pub carries the events to the WithEvents callback (see emit).
	pub *pubsub.Broker[Event]
}

func newEngine(rel release.Release, s settings) *engine {
	e := &engine{s: s, c: s.client, backends: map[string]*release.BackendReport{}, pullsBefore: s.client.Pulls()}
	e.rep = &release.Report{Release: rel, Repos: s.cfg.Repos()}
	e.rep.Problems = append(e.rep.Problems, s.matrix.Problems...)
	e.pub = pubsub.New(eventKey)
	if s.digests != nil {
		e.rep.Problems = append(e.rep.Problems, s.digests.Problems...)
	}
	for _, spec := range s.matrix.Backends {
		if s.backends != nil && !s.backends[spec.Suffix] {
			continue
		}
		b := e.skeleton(spec)
		e.rep.Backends = append(e.rep.Backends, b)
		e.backends[b.Suffix] = b
	}
	return e
}

// skeleton is a backend with every cell and tag pending.
func (e *engine) skeleton(spec release.BackendSpec) *release.BackendReport {
	b := &release.BackendReport{
		Suffix:   spec.Suffix,
		Name:     spec.Name,
		Kind:     spec.Kind,
		Verdict:  release.VerdictPending,
		Targets:  map[string]*release.TargetStatus{},
		Problems: append([]string{}, spec.Problems...),
	}
	for _, l := range spec.Legs {
		leg := release.Leg{PlatformTag: l.PlatformTag, Platform: l.Platform, Cells: map[string]release.Cell{}}
		for _, r := range reposFor(spec.Kind, e.rep.Repos) {
			leg.Cells[r.Repo] = release.Cell{State: release.CellPending}
			e.total++
		}
		b.Legs = append(b.Legs, leg)
	}
	for _, t := range e.s.cfg.Targets {
		ts := &release.TargetStatus{Repo: t.Repo, State: release.TagPending, Tags: map[string]release.TagStatus{}}
		for _, tr := range e.tagsFor(b) {
			ts.Tags[tr.Tag] = release.TagStatus{State: release.TagPending, Role: tr.Role}
			e.total++
		}
		b.Targets[t.Name] = ts
	}
	return b
}

// reposFor lists the repos a leg of this kind is probed in: darwin images are
// pushed by tag into the targets and never anchored, so the anchor repo has
// nothing to say about them (a "missing" there would read as a fault).
func reposFor(kind release.Kind, repos []release.Repo) []release.Repo {
	if kind != release.KindDarwin {
		return repos
	}
	out := make([]release.Repo, 0, len(repos))
	for _, r := range repos {
		if r.Role != release.RoleAnchor {
			out = append(out, r)
		}
	}
	return out
}

// tagsFor lists the tags probed for a backend: darwin images only carry
// the release tag.
func (e *engine) tagsFor(b *release.BackendReport) []release.TagRef {
	tags := e.s.cfg.ReleaseTags(e.rep.Release, b.Suffix)
	if b.Kind == release.KindDarwin {
		return tags[:1]
	}
	return tags
}

// emit queues ev for the WithEvents callback; it never blocks and runs no
// callback code.
func (e *engine) emit(ev Event) { e.pub.Publish(ev) }

// eventKey makes ProgressEvents coalesce (the newest count is the whole
// truth); every other event is a fact, always delivered.
func eventKey(ev Event) (string, bool) {
	_, ok := ev.(ProgressEvent)
	return "progress", ok
}

// deliver starts the WithEvents callback on its own goroutine and returns
// what ends the stream: it lets the callback see every queued event, and
// waits for that unless ctx ends first (a stuck callback never holds Run
// past a cancel).
func (e *engine) deliver(ctx context.Context) (end func()) {
	if e.s.events == nil {
		return func() { e.pub.Close() }
	}
	return e.pub.Stream(ctx, e.s.events)
}

func (e *engine) progress() {
	e.done++
	e.emit(ProgressEvent{Done: e.done, Total: e.total})
}

func (e *engine) setDigest(suffix string, leg int, digest string, from release.DigestSource) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := &e.backends[suffix].Legs[leg]
	l.Digest, l.DigestFrom = digest, from
	e.emit(DigestEvent{Suffix: suffix, PlatformTag: l.PlatformTag, Digest: digest, From: from})
}

func (e *engine) setCell(suffix string, leg int, repo string, c release.Cell) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := &e.backends[suffix].Legs[leg]
	if old, ok := l.Cells[repo]; ok && old.State != release.CellPending {
		return // answered already (e.g. by the anchor's keepalive tag)
	}
	l.Cells[repo] = c
	e.emit(CellEvent{Suffix: suffix, PlatformTag: l.PlatformTag, Repo: repo, Cell: c.Clone()})
	e.progress()
}

// reviseCell replaces a cell already answered with a better answer (an
// attested build's index reaped, while the repo holds every manifest it
// names: settleReapedIndexes). The cell was counted when first answered.
func (e *engine) reviseCell(suffix string, leg int, repo string, c release.Cell) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := &e.backends[suffix].Legs[leg]
	l.Cells[repo] = c
	e.emit(CellEvent{Suffix: suffix, PlatformTag: l.PlatformTag, Repo: repo, Cell: c.Clone()})
}

func (e *engine) setTag(suffix, target, tag string, st release.TagStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.backends[suffix].Targets[target]
	old := ts.Tags[tag]
	st.Role = old.Role
	ts.Tags[tag] = st
	if old.Role == release.RoleRelease || old.Role == release.RoleBranch {
		ts.State = st.State
	}
	e.emit(TagEvent{Suffix: suffix, Target: target, Tag: tag, Status: st.Clone()})
	if old.State == release.TagPending {
		e.progress()
	}
}

func (e *engine) finish(suffix string, judge func(b *release.BackendReport)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.backends[suffix]
	judge(b)
	e.emit(BackendEvent{Backend: b.Clone()})
}

func (e *engine) run(ctx context.Context) (*release.Report, error) {
	end := e.deliver(ctx)
	defer end()
	e.mu.Lock()
	e.emit(StartEvent{Report: e.rep.Clone(), Probes: e.total})
	e.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newProber(e, cancel)
	p.start(ctx) // the anchor listing runs while the repos are checked
	p.checkRepos(ctx)
	var wg sync.WaitGroup
	for i, b := range e.rep.Backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Earlier backends first at every registry, so each backend's
			// chain (anchor, then cells, tags and signatures) moves on
			// while later ones fill the free slots; shared work (the
			// anchor listing) has priority 0 and goes first.
			p.backend(registry.WithPriority(ctx, i+1), b.Suffix)
		}()
	}
	wg.Wait()
	p.wait()

	e.mu.Lock()
	defer e.mu.Unlock()
	p.mu.Lock()
	e.rep.Release.Run, e.rep.Release.RunNote = p.run, p.runNote
	inputErr := p.inputErr
	p.mu.Unlock()
	if inputErr != nil {
		return nil, inputErr
	}
	e.rep.Problems = append(e.rep.Problems, p.repoProblems()...)
	e.rep.Problems = append(e.rep.Problems, p.problems...)
	var quota []string
	e.rep.Registries, quota = registryBudgets(e.c, e.rep.Repos, e.pullsBefore)
	e.rep.Problems = append(e.rep.Problems, quota...)
	e.rep.Problems = append(e.rep.Problems, failureSummary(e.rep)...)
	e.rep.Summary = release.Summary{}
	for _, b := range e.rep.Backends {
		e.rep.Summary.Add(b.Verdict)
	}
	if err := ctx.Err(); err != nil {
		return e.rep, err
	}
	return e.rep, nil
}
