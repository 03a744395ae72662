package inspect

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// This file checks each repo once before anything in it is judged: a repo
// that does not exist (a mistyped name) is a setup mistake, never a
// release whose manifests were reaped.

// checkRepos asks every repo of the report, at once and ahead of backend
// work, whether it exists and holds anything (one tags/list?n=1 each).
func (p *prober) checkRepos(ctx context.Context) {
	ctx = registry.WithPriority(ctx, 0)
	var wg sync.WaitGroup
	for i, r := range p.e.rep.Repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, why := p.checkRepo(ctx, r.Repo)
			p.e.mu.Lock()
			p.e.rep.Repos[i].State, p.e.rep.Repos[i].Error = st, why
			p.e.mu.Unlock()
		}()
	}
	wg.Wait()
}

func (p *prober) checkRepo(ctx context.Context, repo string) (release.RepoState, string) {
	r, err := p.e.c.Repository(repo)
	if err != nil {
		return release.RepoError, err.Error()
	}
	holds, err := p.e.c.HoldsTags(ctx, r)
	cls, msg := registry.Classify(err)
	switch {
	case err == nil && holds:
		return release.RepoExists, ""
	case err == nil:
		return release.RepoEmpty, ""
	case cls == registry.RepoUnknown:
		return release.RepoAbsent, msg
	case cls == registry.Denied:
		return release.RepoDenied, msg
	}
	return release.RepoError, msg
}

// sawRepo records that repo answered 200 for something it holds: it
// exists, whatever its tag listing said (a registry may answer NAME_UNKNOWN
// for a repo that holds manifests but no tag).
func (p *prober) sawRepo(repo string) {
	p.mu.Lock()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[repo] = true
	p.mu.Unlock()
}

// absentRepos maps each repo taken as not existing to why: it answered
// NAME_UNKNOWN and nothing in it was found since.
func (p *prober) absentRepos() map[string]string {
	p.e.mu.Lock()
	repos := append([]release.Repo(nil), p.e.rep.Repos...)
	p.e.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for _, r := range repos {
		if r.State == release.RepoAbsent && !p.seen[r.Repo] {
			out[r.Repo] = "repo " + r.Repo + " does not exist (" + r.Error + ")"
		}
	}
	return out
}

// repoProblems are the release-wide findings of the repo checks, each
// naming the repo and the config key that names it. It settles a repo
// that answered NAME_UNKNOWN yet held something as existing without tags.
func (p *prober) repoProblems() []string {
	p.mu.Lock()
	seen := p.seen
	p.mu.Unlock()
	var out []string
	for i, r := range p.e.rep.Repos {
		if r.State == release.RepoAbsent && seen[r.Repo] {
			r.State, r.Error = release.RepoEmpty, ""
			p.e.rep.Repos[i] = r
		}
		at := fmt.Sprintf("%s (%s)", r.Repo, r.Key)
		switch r.State {
		case release.RepoAbsent:
			how := "fix the name in the config"
			if r.Role == release.RoleTarget {
				how += ", or create it on purpose with repair --create-target " + r.Name
			}
			out = append(out, fmt.Sprintf("%s does not exist (%s): nothing in it is judged missing or reaped, and repair writes nothing there; %s", at, r.Error, how))
		case release.RepoDenied:
			out = append(out, fmt.Sprintf("%s does not exist or needs `docker login` (%s)", at, r.Error))
		case release.RepoEmpty:
			out = append(out, fmt.Sprintf("%s exists but holds no tag of any release: is the name right?", at))
		case release.RepoError:
			out = append(out, fmt.Sprintf("could not check %s: %s", at, r.Error))
		}
	}
	return out
}

// markAbsent settles what was read in repos that do not exist before b is
// judged: a cell or tag answered "not found" there is unknown, not
// missing, and such a target says why. A target the caller means to create
// (WithCreateTargets) is judged as the empty repo it will be.
func markAbsent(b *release.BackendReport, in judgeInput) {
	creating := map[string]bool{}
	for name, ts := range b.Targets {
		if in.create[name] {
			creating[ts.Repo] = true
		}
	}
	for i := range b.Legs {
		for repo, c := range b.Legs[i].Cells {
			if why, ok := in.absent[repo]; ok && c.State == release.CellMissing && !creating[repo] {
				b.Legs[i].Cells[repo] = release.Cell{State: release.CellUnknown, Error: why}
			}
		}
	}
	for name, ts := range b.Targets {
		why, ok := in.absent[ts.Repo]
		if !ok {
			continue
		}
		if in.create[name] {
			ts.RepoAbsent = why + "; repair creates it (--create-target " + name + ")"
			continue
		}
		ts.RepoAbsent = why
		for tag, st := range ts.Tags {
			if st.State == release.TagMissing {
				st.State, st.Error = release.TagError, why
				ts.Tags[tag] = st
			}
		}
		ts.State = ts.Tags[ts.ReleaseTag()].State
	}
}
