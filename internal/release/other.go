package release

import (
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/internal/manifest"
)

// OtherImage is what a release (or branch) tag naming other digests than
// the release's is to the release. inspect's verdict (conflict) and
// repair's plan (refuse without force, leave the branch alone, replace a
// leftover) both come from JudgeOther, so the two faces cannot disagree.
type OtherImage int

// What a tag naming other digests may be.
const (
	// OtherLeftover: a list with a child missing in the repo: nothing a
	// user can pull whole; safe to replace.
	OtherLeftover OtherImage = iota
	// OtherConflict: the release tag names a complete image of other
	// digests (another run?): a person decides; only force replaces it.
	OtherConflict
	// OtherBranchBuild: the branch tag names another complete build of
	// the branch: the branch going on, not this run's to move back.
	OtherBranchBuild
	// OtherUnknown: a child's probe did not answer, so whether the image
	// is complete could not be told. Never read as a leftover.
	OtherUnknown
)

// JudgeOther decides what m, named by a tag of role (release or branch)
// and holding none of the release's children, is: child reports each of
// its children's probe in the tag's repo. A child found absent settles it
// as a leftover; otherwise a child that did not answer leaves it unknown,
// with the error saying which.
func JudgeOther(role string, m manifest.Manifest, child func(digest string) manifest.ChildState) (OtherImage, error) {
	var unknown []string
	if m.IsList() {
		for _, c := range m.Children() {
			switch cs := child(c); cs.Presence {
			case manifest.Present:
			case manifest.Absent:
				return OtherLeftover, nil
			default:
				why := cs.Err
				if why == "" {
					why = "not probed"
				}
				unknown = append(unknown, fmt.Sprintf("%s (%s)", manifest.Short(c), why))
			}
		}
	}
	switch {
	case len(unknown) > 0:
		return OtherUnknown, fmt.Errorf("could not tell whether %s is a complete image of other digests: could not check child %s", manifest.Short(m.Digest), strings.Join(unknown, ", "))
	case role == RoleBranch:
		return OtherBranchBuild, nil
	}
	return OtherConflict, nil
}
