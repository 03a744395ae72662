package repair

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/go-skynet/remerge/internal/manifest"
)

// This file is what a re-merge reports: Result, its outcome words, and how
// the CLI and the TUI print it.

// Outcomes written to Result.Outcome and the audit log.
const (
	OutcomePublished = "published"
	OutcomeNothing   = "nothing to do"
	// Failures are "failed: <reason>".
	outcomeFailed = "failed: "
)

// Result says what Execute did, also when it failed part-way: what was
// already copied stays (nothing is ever deleted) and a later run picks up
// from there.
type Result struct {
	Plan    *Plan
	Outcome string
	NoOp    bool
	// Mounted are blobs linked into the target without their bytes moving
	// (cross-repo mount on the same registry).
	Mounted []string
	// Copied are blobs whose bytes were uploaded; BytesCopied counts them.
	Copied      []string
	BytesCopied int64
	// Manifests are the child manifests put into the target.
	Manifests []string
	// ListWritten is true once the list is in the target by digest.
	ListWritten bool
	// TagsMoved are the tags this re-merge moved, in order. A tag whose
	// write failed or was cut off is read back before Execute returns and
	// counted here when it did move.
	TagsMoved []string
	// TagsUnknown are tags whose write was cut off and that could not be
	// read back: they may have moved. The audit log keeps the re-merge
	// open, and the next run's Reconcile reads them again.
	TagsUnknown []TagError
	// Verified: every tag of the plan was read back pointing at ListDigest.
	Verified bool
	// AuditPath is where the audit lines went; AuditID ties them together.
	AuditPath string
	AuditID   string
	// Signed: WithSign's cosign signed the list and its children;
	// SignError says why it did not.
	Signed        bool
	SignedDigests []string
	SignError     string

	// attempted is the tag whose write was sent without an answer saying
	// it landed (tags are written one at a time; the first failure ends
	// the step).
	attempted string
}

// TagError is a tag that could not be read back, with the reason.
type TagError struct {
	Tag, Err string
}

// Unsigned reports whether something new was published: a re-merged list
// carries no signature until someone runs CosignCommand.
func (r *Result) Unsigned() bool {
	return (r.ListWritten || len(r.TagsMoved) > 0 || len(r.TagsUnknown) > 0) && !r.Signed
}

// CosignCommand is the command CI's merge job runs to sign what it
// published, children included (.github/workflows/backend_merge.yml).
func (r *Result) CosignCommand() string {
	return SignCommand(r.Plan.Repo, r.Plan.ListDigest)
}

// String summarises the result in a few lines for the CLI and the TUI.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s in %s: %s\n", r.Plan.Suffix, r.Plan.Release.Ref, r.Plan.Target, r.Outcome)
	switch {
	case r.Signed:
		fmt.Fprintf(&b, "  signed %s and children with cosign, as CI does\n", strings.Join(manifest.ShortAll(r.SignedDigests), ", "))
	case r.SignError != "":
		fmt.Fprintf(&b, "  signing failed: %s\n", r.SignError)
	}
	if r.NoOp {
		return b.String()
	}
	fmt.Fprintf(&b, "  blobs: %d mounted, %d copied (%s); manifests put: %d\n", len(r.Mounted), len(r.Copied), humanize.IBytes(uint64(r.BytesCopied)), len(r.Manifests))
	if len(r.TagsMoved) > 0 {
		fmt.Fprintf(&b, "  tags moved: %s\n", strings.Join(r.TagsMoved, ", "))
	}
	for _, u := range r.TagsUnknown {
		fmt.Fprintf(&b, "  tag %s may have moved (could not read it back: %s); the next repair reconciles it\n", u.Tag, u.Err)
	}
	if r.Unsigned() {
		fmt.Fprintf(&b, "  %s is unsigned; sign it with: %s\n", short(r.Plan.ListDigest), r.CosignCommand())
	}
	return b.String()
}
