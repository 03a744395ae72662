package release

import (
	"fmt"
	"strings"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/mod/semver"
)

// Tag roles.
const (
	RoleRelease = "release" // v4.2.2-<suffix>
	RoleBranch  = "branch"  // master-<suffix>
	RoleSHA     = "sha"     // sha-<7>-<suffix>
	RoleLatest  = "latest"  // latest-<suffix>, semver refs only
)

// TagRef is one tag a merge writes for a backend.
type TagRef struct {
	Tag  string
	Role string
}

// IsSemver reports whether ref is a release tag (v4.2.2) rather than a branch.
func IsSemver(ref string) bool {
	return semver.IsValid(canonicalVersion(ref))
}

func canonicalVersion(ref string) string {
	if !strings.HasPrefix(ref, "v") {
		ref = "v" + ref
	}
	return ref
}

// ReleaseTags lists the tags a merge of the release writes for a backend, in
// the order they are written: the release (or branch) tag first, then
// sha-<7> when the sha is known (and tags.sha is set), then latest for
// final semver releases, then the series tags (tags.also) of a semver
// release.
func (c Config) ReleaseTags(rel Release, suffix string) []TagRef {
	suffix = c.tagSuffix(suffix)
	role := RoleBranch
	if IsSemver(rel.Ref) {
		role = RoleRelease
	}
	out := []TagRef{{Tag: expand(c.Tags.Release, rel, suffix), Role: role}}
	if rel.SHA != "" && c.Tags.SHA != "" {
		out = append(out, TagRef{Tag: expand(c.Tags.SHA, rel, suffix), Role: RoleSHA})
	}
	// latest follows final releases only, as docker/metadata-action's
	// latest=auto does: a prerelease (v4.3.0-rc1) never moves it.
	if role == RoleRelease && semver.Prerelease(canonicalVersion(rel.Ref)) == "" && c.Tags.Latest != "" {
		out = append(out, TagRef{Tag: expand(c.Tags.Latest, rel, suffix), Role: RoleLatest})
	}
	return append(out, c.seriesTags(rel, suffix, out)...)
}

// NewerRelease returns the newest tag among tags that names a semver release
// of the backend strictly newer than rel.Ref, or "" when there is none. A
// merge moves latest only when this is "": latest goes forward, never back.
// Suffixes are matched exactly, never by prefix (-cpu-kokoro vs -cpu-kokoros).
func (c Config) NewerRelease(rel Release, suffix string, tags []string) string {
	return c.newerRelease(rel, suffix, tags, nil)
}

// newerRelease is NewerRelease counting only the releases in (nil: all).
func (c Config) newerRelease(rel Release, suffix string, tags []string, in func(Release) bool) string {
	suffix = c.tagSuffix(suffix)
	cur := canonicalVersion(rel.Ref)
	if !semver.IsValid(cur) {
		return ""
	}
	pre, post, ok := releaseHole(c.Tags.Release)
	if !ok {
		return ""
	}
	pre = strings.ReplaceAll(pre, "{suffix}", suffix)
	post = strings.ReplaceAll(post, "{suffix}", suffix)
	best := ""
	for _, t := range tags {
		if !strings.HasPrefix(t, pre) || !strings.HasSuffix(t, post) || len(t) < len(pre)+len(post) {
			continue
		}
		ref := t[len(pre) : len(t)-len(post)]
		v := canonicalVersion(ref)
		// The ref must be a bare version: "v4.2.3" and not "v4.2.3-cpu" (which
		// would be another suffix's tag sharing our suffix as its own suffix).
		if !semver.IsValid(v) || strings.ContainsAny(ref, "-+") {
			continue
		}
		if pre+post == "" && !parseVersion(ref).ok {
			continue // a bare {version} tag: 2.1 and 2 are series tags, not releases
		}
		if in != nil && !in(Release{Ref: ref}) {
			continue
		}
		if semver.Compare(v, cur) > 0 && (best == "" || semver.Compare(v, canonicalVersion(best)) > 0) {
			best = ref
		}
	}
	if best == "" {
		return ""
	}
	return expand(c.Tags.Release, Release{Ref: best}, suffix)
}

func validRepo(s string) error {
	if s == "" {
		return fmt.Errorf("repo is empty")
	}
	if strings.ContainsAny(s, "@:") && strings.Count(s, ":") > 0 {
		// host:port is fine; a tag or digest is not.
		if strings.Contains(s, "@") || strings.Contains(s[strings.LastIndex(s, "/")+1:], ":") {
			return fmt.Errorf("repo %q must not name a tag or digest", s)
		}
	}
	if _, err := name.NewRepository(s); err != nil {
		return fmt.Errorf("repo %q: %w", s, err)
	}
	return nil
}

// LabelOrder compares the release an image's labels name with rel: +1 when
// the image is of a newer release, 0 the same, -1 older. ok is false when
// the labels cannot tell (absent, not a semver release of this backend).
func (c Config) LabelOrder(rel Release, suffix string, p manifest.Provenance) (cmp int, ok bool) {
	suffix = c.tagSuffix(suffix)
	cur := canonicalVersion(rel.Ref)
	if p.Version == "" || !semver.IsValid(cur) {
		return 0, false
	}
	v := p.Version
	if suffix != "" {
		if !strings.HasSuffix(v, suffix) {
			// metadata-action writes the tag it pushes, suffix included;
			// a bare version is accepted, another suffix is not ours.
			if strings.Contains(v, "-") {
				return 0, false
			}
		} else {
			v = strings.TrimSuffix(v, suffix)
		}
	}
	if !semver.IsValid(canonicalVersion(v)) || semver.Prerelease(canonicalVersion(v)) != "" {
		return 0, false
	}
	return semver.Compare(canonicalVersion(v), cur), true
}
