package release

import (
	"github.com/go-skynet/remerge/internal/manifest"
)

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
	// Role is release, sha, latest, series (tags.also) or branch.
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
