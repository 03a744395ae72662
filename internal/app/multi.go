package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/tui"
)

// Releases shows several releases at once in the TUI (--release given more
// than once): one row per (backend, release), keyed "<backend>@<ref>"
// (acme/app@v2.1.0), so a maintainer sees v2.1.0 and v2.2.0 of one image
// side by side. Each release is inspected, planned and repaired by its own
// Service; Releases only renames rows and joins their events, so what one
// release shows is exactly what it shows alone.
type Releases struct {
	Each []*Service

	mu sync.Mutex
	// rows: row key -> the release index and the backend's own suffix.
	rows map[string]rowOf
}

type rowOf struct {
	i      int
	suffix string
}

var _ tui.Service = (*Releases)(nil)

func (r *Releases) key(i int, suffix string) string {
	return suffix + "@" + r.Each[i].Release.Ref
}

// joiner folds the event streams of several inspections into one, in
// order: nothing is delivered until every release's skeleton is in (one
// StartEvent for all), and probes are counted across releases.
type joiner struct {
	r           *Releases
	fn          func(inspect.Event)
	mu          sync.Mutex
	starts      []*release.Report
	started     int
	done, total []int
	pending     []inspect.Event
}

func (j *joiner) forward(i int) func(inspect.Event) {
	return func(ev inspect.Event) {
		j.mu.Lock()
		defer j.mu.Unlock()
		switch e := ev.(type) {
		case inspect.StartEvent:
			j.starts[i], j.total[i] = j.r.rename(i, e.Report), e.Probes
			j.started++
			if j.started < len(j.starts) {
				return
			}
			j.deliver(inspect.StartEvent{Report: j.r.join(j.starts), Probes: sum(j.total)})
			for _, p := range j.pending {
				j.deliver(p)
			}
			j.pending = nil
			return
		case inspect.ProgressEvent:
			j.done[i], j.total[i] = e.Done, e.Total
			ev = inspect.ProgressEvent{Done: sum(j.done), Total: sum(j.total)}
		default:
			ev = j.r.renameEvent(i, ev)
		}
		if j.started < len(j.starts) {
			j.pending = append(j.pending, ev)
			return
		}
		j.deliver(ev)
	}
}

func (j *joiner) deliver(ev inspect.Event) {
	if j.fn != nil {
		j.fn(ev)
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// Inspect inspects every release at once and joins the reports.
func (r *Releases) Inspect(ctx context.Context, run string, fn func(inspect.Event)) (*release.Report, error) {
	n := len(r.Each)
	j := &joiner{r: r, fn: fn, starts: make([]*release.Report, n), done: make([]int, n), total: make([]int, n)}
	reps := make([]*release.Report, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range r.Each {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = s.Inspect(ctx, run, j.forward(i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && reps[i] == nil {
			return nil, fmt.Errorf("%s: %w", r.Each[i].Release.Ref, err)
		}
	}
	out := make([]*release.Report, n)
	for i, rep := range reps {
		out[i] = r.rename(i, rep)
	}
	joined := r.join(out)
	for _, err := range errs {
		if err != nil {
			return joined, err
		}
	}
	return joined, nil
}

// rename copies a report with its backends keyed by release, and records
// the keys.
func (r *Releases) rename(i int, rep *release.Report) *release.Report {
	c := rep.Clone()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rows == nil {
		r.rows = map[string]rowOf{}
	}
	for _, b := range c.Backends {
		k := r.key(i, b.Suffix)
		r.rows[k] = rowOf{i: i, suffix: b.Suffix}
		b.Suffix = k
	}
	for k, p := range c.Problems {
		c.Problems[k] = rep.Release.Ref + ": " + p
	}
	return c
}

// join puts renamed reports side by side under one header.
func (r *Releases) join(reps []*release.Report) *release.Report {
	out := &release.Report{Repos: reps[0].Repos}
	var refs []string
	for _, rep := range reps {
		refs = append(refs, rep.Release.Ref)
		out.Backends = append(out.Backends, rep.Backends...)
		out.Problems = append(out.Problems, rep.Problems...)
		for _, b := range rep.Backends {
			out.Summary.Add(b.Verdict)
		}
	}
	out.Release = release.Release{Ref: strings.Join(refs, ", ")}
	return out
}

func (r *Releases) renameEvent(i int, ev inspect.Event) inspect.Event {
	switch e := ev.(type) {
	case inspect.DigestEvent:
		e.Suffix = r.key(i, e.Suffix)
		return e
	case inspect.CellEvent:
		e.Suffix = r.key(i, e.Suffix)
		return e
	case inspect.TagEvent:
		e.Suffix = r.key(i, e.Suffix)
		return e
	case inspect.BackendEvent:
		if e.Backend != nil {
			b := e.Backend.Clone()
			b.Suffix = r.key(i, b.Suffix)
			e.Backend = b
		}
		return e
	}
	return ev
}

// own returns the release a row belongs to and the backend as that
// release's service knows it.
func (r *Releases) own(b *release.BackendReport) (*Service, *release.BackendReport, error) {
	r.mu.Lock()
	row, ok := r.rows[b.Suffix]
	r.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("%s: not a row of this inspection", b.Suffix)
	}
	c := b.Clone()
	c.Suffix = row.suffix
	return r.Each[row.i], c, nil
}

// Runs lists the first release's anchored runs (the anchor repo is shared).
func (r *Releases) Runs(ctx context.Context) ([]release.AnchorRun, error) {
	return r.Each[0].Runs(ctx)
}

// Plan plans the row's backend in its own release.
func (r *Releases) Plan(ctx context.Context, run string, b *release.BackendReport) (tui.Plan, error) {
	s, own, err := r.own(b)
	if err != nil {
		return tui.Plan{Suffix: b.Suffix}, err
	}
	p, err := s.Plan(ctx, run, own)
	p.Suffix = b.Suffix
	return p, err
}

// Repair re-merges the row's backend in its own release.
func (r *Releases) Repair(ctx context.Context, run string, b *release.BackendReport, fn func(tui.Progress)) (tui.Outcome, error) {
	s, own, err := r.own(b)
	if err != nil {
		return tui.Outcome{Suffix: b.Suffix}, err
	}
	o, err := s.Repair(ctx, run, own, func(p tui.Progress) {
		p.Suffix = b.Suffix
		if fn != nil {
			fn(p)
		}
	})
	o.Suffix = b.Suffix
	return o, err
}
