package inspect

import "github.com/go-skynet/remerge/internal/manifest"

// Release names what is inspected: a git ref (a semver tag such as v4.2.2, or
// a branch such as master), optionally the CI run that built it and its
// commit. The run selects keepalive anchors; the sha adds the sha-<7> tag.
type Release struct {
	Ref string `json:"ref"`
	Run string `json:"run,omitempty"`
	SHA string `json:"sha,omitempty"`
	// RunNote says how the run was picked: given with --run, or the
	// newest anchored one (and of how many).
	RunNote string `json:"run_note,omitempty"`
}

// Kind says how a backend is published.
type Kind string

// Backend kinds, as written in the JSON report.
const (
	// KindMultiarch is merged from one child per platform-tag into a list.
	KindMultiarch Kind = "multiarch"
	// KindSingle has one linux leg; the merge publishes the manifest itself.
	KindSingle Kind = "single"
	// KindDarwin is pushed as a plain tagged image by its build; never merged.
	KindDarwin Kind = "darwin"
)

// CellState is the state of one leg's digest in one repository.
type CellState string

// Cell states (DESIGN.md section 3).
const (
	CellPresent CellState = "present" // manifest HEAD answered 200
	CellMissing CellState = "missing" // 404 / MANIFEST_UNKNOWN
	CellDenied  CellState = "denied"  // 401 / 403
	CellError   CellState = "error"   // anything else after retries
	CellPending CellState = "pending" // not answered yet
	CellUnknown CellState = "unknown" // no digest known for the leg, or its registry's quota is spent (Error says)
)

// TagState is the published state of one tag of a backend in a target. It
// uses the published-state words of DESIGN.md section 3, plus the cell words
// pending, denied and error when the tag could not be resolved.
type TagState string

// Tag states.
const (
	TagComplete TagState = "complete" // list of exactly the expected children, each present
	TagPartial  TagState = "partial"  // some but not all expected children
	TagStale    TagState = "stale"    // other digests (e.g. an older release)
	TagDangling TagState = "dangling" // expected children, one missing in the repo
	TagBroken   TagState = "broken"   // expected children, all present, one misdescribed (size, type, platform); bytes that do not parse are TagError
	TagMissing  TagState = "missing"  // the tag does not exist
	TagPending  TagState = "pending"
	TagDenied   TagState = "denied"
	TagError    TagState = "error"
	// TagUnknown: not asked, because its registry's pull quota is spent
	// (the Error says so, and the way out): could-not-tell, never missing.
	TagUnknown TagState = "unknown"
)

// Verdict is the one-word outcome for a backend.
type Verdict string

// Verdicts, in the order they are sorted and summarised (worst first is
// handled by Rank).
const (
	VerdictOK           Verdict = "ok"
	VerdictRepairable   Verdict = "repairable"
	VerdictUnrepairable Verdict = "unrepairable"
	VerdictConflict     Verdict = "conflict"
	VerdictUnknown      Verdict = "unknown"
	// VerdictNotBuilt: on a branch release, a backend the run did not
	// build (master pushes are path-filtered): nothing to fix.
	VerdictNotBuilt Verdict = "not-built"
	// VerdictPending is only seen while probes are running; never in a
	// finished report.
	VerdictPending Verdict = "pending"
)

// Rank orders verdicts for "sort by verdict": the ones needing a person
// first, ok last.
func (v Verdict) Rank() int {
	switch v {
	case VerdictConflict:
		return 0
	case VerdictUnrepairable:
		return 1
	case VerdictRepairable:
		return 2
	case VerdictUnknown:
		return 3
	case VerdictPending:
		return 4
	case VerdictNotBuilt:
		return 6
	default:
		return 5
	}
}

// DigestSource records where a leg's expected digest came from.
type DigestSource string

// Digest sources, in priority order (DESIGN.md section 4).
const (
	FromDigests   DigestSource = "digests"   // --digests DIR artifact folder
	FromAnchor    DigestSource = "anchor"    // keepalive tag of the run in the anchor repo
	FromPublished DigestSource = "published" // child of an already published list
)

// Cell is one leg's digest in one repository.
type Cell struct {
	State CellState `json:"state"`
	// Error keeps the registry's own text for denied and error cells.
	Error string `json:"error,omitempty"`
	// MissingBlobs lists config/layer digests not linked in this repo
	// (only with --deep, only for present cells).
	MissingBlobs []string `json:"missing_blobs,omitempty"`
}

// Leg is one (backend, platform) pair with its expected child digest and
// its cell in every source repo, keyed by repo as written in the config.
type Leg struct {
	PlatformTag string       `json:"platform_tag"` // amd64, arm64 or single
	Platform    string       `json:"platform"`     // linux/amd64
	Digest      string       `json:"digest,omitempty"`
	DigestFrom  DigestSource `json:"digest_from,omitempty"`
	// DigestError says why no digest could be told when a lookup failed
	// (not when there was nothing to find).
	DigestError string `json:"digest_error,omitempty"`
	// Size and MediaType of the child manifest, when a probe saw it.
	Size      int64           `json:"size,omitempty"`
	MediaType string          `json:"media_type,omitempty"`
	Cells     map[string]Cell `json:"cells"`
}

// TagStatus is what one user-facing tag of a backend points to in a target.
type TagStatus struct {
	State     TagState `json:"state"`
	Digest    string   `json:"digest,omitempty"`
	MediaType string   `json:"media_type,omitempty"`
	// Children are the child digests of a list in list order; for a plain
	// manifest, the manifest's own digest.
	Children []string `json:"children,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Role is release, sha, latest or branch.
	Role string `json:"role"`
	// Form is what the tag names: "one-entry list", "list of 2", "bare
	// manifest" (older buildx, or prefer_index false).
	Form string `json:"form,omitempty"`
	// Reason explains a state other than complete.
	Reason string `json:"reason,omitempty"`
	// Provenance is what the image's labels say it is, for a tag naming
	// other digests (an older release, another run).
	Provenance *manifest.Provenance `json:"provenance,omitempty"`
	// Newer, for latest, names the newer release it already holds: fine.
	Newer string `json:"newer,omitempty"`
	// UserImpact, for a user-facing tag (latest, the branch tag, a darwin
	// image's release tag), says how it lets users down ("stale: users
	// silently get v4.2.1-cpu-kokoro"); empty when it does not, e.g. a
	// latest that already moved on to a newer release. It is inspect's one
	// answer to "is this tag stale for users": the gate, the table's L!
	// marker and the TUI read it, never the prose of Impact.
	UserImpact string `json:"user_impact,omitempty"`
	// Signature says whether the tag's image is signed; only looked up for
	// a complete tag of a linux backend (the one a user would verify).
	Signature *Signature `json:"signature,omitempty"`
}

// SignatureState says whether a digest carries a cosign signature in a
// repo. "error" is could-not-tell, never "unsigned".
type SignatureState string

// Signature states.
const (
	SigSigned   SignatureState = "signed"
	SigUnsigned SignatureState = "unsigned"
	SigError    SignatureState = "error"
)

// Signature is what a user verifying a published image would find in the
// target: cosign signatures stored as OCI 1.1 referrers (the referrers API,
// or the sha256-<hex> referrers tag where the registry lacks it) or under
// cosign's older sha256-<hex>.sig tag. Signatures are found, not verified:
// remerge reads who signed, cosign verify checks it.
type Signature struct {
	State SignatureState `json:"state"`
	// Storage is where it was found: "referrers" or "sig-tag".
	Storage string `json:"storage,omitempty"`
	// Identities are the certificate SANs (workflow URI or email) of a
	// keyless signature; empty for a key-pair signature.
	Identities []string `json:"identities,omitempty"`
	// IdentityOK: one of Identities matches signing.identity_regex. Absent
	// when there is no identity to match (unsigned, or a key signature).
	IdentityOK *bool `json:"identity_ok,omitempty"`
	// Key: signed with a key pair, so there is no identity to check.
	Key   bool   `json:"key,omitempty"`
	Error string `json:"error,omitempty"`
	// Children are the signatures of the list's children, by digest (cosign
	// sign --recursive signs each). Absent for a bare manifest.
	Children map[string]ChildSignature `json:"children,omitempty"`
}

// ChildSignature is whether one child of a list is signed.
type ChildSignature struct {
	State   SignatureState `json:"state"`
	Storage string         `json:"storage,omitempty"`
	Error   string         `json:"error,omitempty"`
}

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

	// notBuilt: a branch run did not build it (no leg's digest from the
	// run's anchors, digests folder or sha- tag, and none failed to answer).
	notBuilt string
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
