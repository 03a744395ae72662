package release

import (
	"sort"
)

// TargetStatus is the published state of a backend in one target: State is
// the state of the release tag, Tags every tag of the release.
type TargetStatus struct {
	Repo  string               `json:"repo"`
	State TagState             `json:"state"`
	Tags  map[string]TagStatus `json:"tags"`
	// Conflict: the release tag here already names a complete image of
	// other digests (another run?); a person decides, and repair needs
	// --force to replace it.
	Conflict bool `json:"conflict,omitempty"`
	// RepoAbsent says why the target repo is taken as not existing: repair
	// writes nothing into it unless told to create it.
	RepoAbsent string `json:"repo_absent,omitempty"`
}

// BackendReport is everything known about one backend.
type BackendReport struct {
	Suffix  string                   `json:"suffix"`
	Name    string                   `json:"name,omitempty"` // matrix "backend" field
	Kind    Kind                     `json:"kind"`
	Verdict Verdict                  `json:"verdict"`
	Legs    []Leg                    `json:"legs"`
	Targets map[string]*TargetStatus `json:"targets"`
	// Problems are plain-language findings, e.g. "arm64 manifest reaped
	// from quay.io/go-skynet/local-ai-backends; still in ci-cache".
	Problems []string `json:"problems"`
	// Impact lists the user-facing tags that are stale or missing, e.g.
	// "latest-cpu-kokoro in quay: stale".
	Impact []string `json:"impact,omitempty"`
}

// Summary counts backends per verdict.
type Summary struct {
	OK           int `json:"ok"`
	Repairable   int `json:"repairable"`
	Unrepairable int `json:"unrepairable"`
	Conflict     int `json:"conflict"`
	Unknown      int `json:"unknown"`
	// NotBuilt counts the backends a branch run did not build.
	NotBuilt int `json:"not_built"`
}

// Add counts one verdict.
func (s *Summary) Add(v Verdict) {
	switch v {
	case VerdictOK:
		s.OK++
	case VerdictRepairable:
		s.Repairable++
	case VerdictUnrepairable:
		s.Unrepairable++
	case VerdictConflict:
		s.Conflict++
	case VerdictUnknown:
		s.Unknown++
	case VerdictNotBuilt:
		s.NotBuilt++
	}
}

// NeedAttention counts the backends that are not ok: repairable,
// unrepairable, conflict or unknown (not built is not broken). The TUI's
// status line says it; Broken is it being non-zero.
func (s Summary) NeedAttention() int {
	return s.Repairable + s.Unrepairable + s.Conflict + s.Unknown
}

// Broken reports whether any backend is not ok (inspect's exit code 1).
func (s Summary) Broken() bool { return s.NeedAttention() > 0 }

// RepoRole says why a repo is probed.
type RepoRole string

// Repo roles.
const (
	RoleAnchor RepoRole = "anchor"
	RoleTarget RepoRole = "target"
	RoleSource RepoRole = "source"
)

// Repo is one probed repository, in column order: anchor, targets, sources.
type Repo struct {
	Repo string   `json:"repo"`
	Role RepoRole `json:"role"`
	// Name is the target name (quay, dockerhub) for targets.
	Name string `json:"name,omitempty"`
	// Key is where the config names the repo (anchor, targets[1].repo,
	// sources[0]): what a person edits when the name is wrong.
	Key string `json:"key,omitempty"`
	// State is what checking the repo before judging it found; Error the
	// registry's word when it is not "exists".
	State RepoState `json:"state,omitempty"`
	Error string    `json:"error,omitempty"`
}

// RepoState is what one tags/list?n=1 of a repo told, before anything in
// it was judged.
type RepoState string

// Repo states.
const (
	RepoExists RepoState = "exists" // holds at least one tag
	RepoEmpty  RepoState = "empty"  // exists, holds no tag at all
	// RepoAbsent: NAME_UNKNOWN, the repo does not exist (a mistyped name?).
	// Nothing in it is missing or reaped: its cells are unknown.
	RepoAbsent RepoState = "absent"
	// RepoDenied: 401/403 for the listing; on Docker Hub that is also what
	// a name that does not exist gets.
	RepoDenied RepoState = "denied"
	RepoError  RepoState = "error" // could not tell
)

// Report is the whole inspection of a release. Its JSON form is the
// contract of DESIGN.md section 9.
type Report struct {
	Release  Release          `json:"release"`
	Summary  Summary          `json:"summary"`
	Repos    []Repo           `json:"repos"`
	Backends []*BackendReport `json:"backends"`
	// Problems are release-wide findings (matrix mistakes, digest sources).
	Problems []string `json:"problems,omitempty"`
	// Registries is the pull budget each registry host stated (Docker
	// Hub's ratelimit headers), keyed by host as the config writes it;
	// absent for hosts that state none.
	Registries map[string]RegistryBudget `json:"registries,omitempty"`
}

// RegistryBudget is what a registry said of its pull quota during the
// inspection: a spent quota is why its cells and tags are unknown.
type RegistryBudget struct {
	// PullsLeft and PullsLimit are -1 when the registry did not say.
	PullsLeft  int `json:"pulls_left"`
	PullsLimit int `json:"pulls_limit"`
	// WindowSeconds is the period the limit counts over (0: not said).
	WindowSeconds int  `json:"window_seconds,omitempty"`
	QuotaSpent    bool `json:"quota_spent"`
	// PullsSpent is the pulls (manifest GETs answered) this inspection
	// made there: what the next one is likely to spend.
	PullsSpent int `json:"pulls_spent"`
	// Message names the cause and the way out when the quota is spent,
	// else the pulls left.
	Message string `json:"message"`
}

// ReleaseTag is the target's release (or, on a branch, branch) tag; ""
// when the target has none.
func (ts *TargetStatus) ReleaseTag() string {
	for tag, st := range ts.Tags {
		if st.Role == RoleRelease || st.Role == RoleBranch {
			return tag
		}
	}
	return ""
}

// SortedTags lists the target's tags as the release writes them: the
// release or branch tag, the commit's sha tag, latest; ties by name.
func (ts *TargetStatus) SortedTags() []string {
	rank := map[string]int{RoleRelease: 0, RoleBranch: 0, RoleSHA: 1, RoleLatest: 2, RoleSeries: 3}
	tags := make([]string, 0, len(ts.Tags))
	for t := range ts.Tags {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool {
		ri, rj := rank[ts.Tags[tags[i]].Role], rank[ts.Tags[tags[j]].Role]
		if ri != rj {
			return ri < rj
		}
		return tags[i] < tags[j]
	})
	return tags
}

// Clone returns a deep copy, safe to hand to another goroutine.
func (r *Report) Clone() *Report {
	c := *r
	c.Repos = append([]Repo(nil), r.Repos...)
	c.Problems = append([]string(nil), r.Problems...)
	if r.Registries != nil {
		c.Registries = make(map[string]RegistryBudget, len(r.Registries))
		for k, v := range r.Registries {
			c.Registries[k] = v
		}
	}
	c.Backends = make([]*BackendReport, len(r.Backends))
	for i, b := range r.Backends {
		c.Backends[i] = b.Clone()
	}
	return &c
}

// Clone returns a deep copy of the backend.
func (b *BackendReport) Clone() *BackendReport {
	c := *b
	c.Problems = append([]string(nil), b.Problems...)
	c.Impact = append([]string(nil), b.Impact...)
	c.Legs = make([]Leg, len(b.Legs))
	for i, l := range b.Legs {
		l.Cells = CloneCells(l.Cells)
		c.Legs[i] = l
	}
	c.Targets = make(map[string]*TargetStatus, len(b.Targets))
	for n, t := range b.Targets {
		tc := *t
		tc.Tags = make(map[string]TagStatus, len(t.Tags))
		for k, v := range t.Tags {
			tc.Tags[k] = v.Clone()
		}
		c.Targets[n] = &tc
	}
	return &c
}

// CloneCells deep-copies a leg's cells, so an event or a snapshot never
// shares a slice with the engine still writing to it.
func CloneCells(m map[string]Cell) map[string]Cell {
	out := make(map[string]Cell, len(m))
	for k, v := range m {
		out[k] = v.Clone()
	}
	return out
}

// Clone returns a copy of the cell that shares no slice with it.
func (c Cell) Clone() Cell {
	c.MissingBlobs = append([]string(nil), c.MissingBlobs...)
	return c
}

// SpentQuotas lists the message of every registry of the report whose pull
// quota is spent, sorted: what stderr, the TUI and repair say.
func (r *Report) SpentQuotas() []string {
	var out []string
	for _, b := range r.Registries {
		if b.QuotaSpent {
			out = append(out, b.Message)
		}
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy of the tag status that shares no slice or
// signature with it.
func (t TagStatus) Clone() TagStatus {
	t.Children = append([]string(nil), t.Children...)
	if t.Signature != nil {
		t.Signature = t.Signature.Clone()
	}
	return t
}
