package release

import (
	"regexp"
	"strings"
)

// RoleSeries is a series tag (tags.also, e.g. "{major}.{minor}" -> 2.1):
// like latest, it follows the newest release of its series and moves
// forward only.
const RoleSeries = "series"

// ForwardOnly reports whether tags of this role follow the newest release
// and so may only move forward: latest and the series tags. Whether the
// image under such a tag is newer is read from its
// org.opencontainers.image.version label (Config.Newer).
func ForwardOnly(role string) bool { return role == RoleLatest || role == RoleSeries }

// UserFacing reports whether users pull tags of this role by name: the
// forward-only tags and a branch's tag (master-<suffix>). Their impact,
// their signature and whether they moved on are what users notice.
func UserFacing(role string) bool { return ForwardOnly(role) || role == RoleBranch }

// semverRef matches a version as docker/metadata-action's type=semver
// accepts it (node-semver's valid, with an optional leading v): three
// numbers, an optional prerelease and optional build metadata.
var semverRef = regexp.MustCompile(`^[vV=]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

// version is what metadata-action's semver patterns see of a ref.
type version struct {
	ok                        bool   // the ref is a semver version
	full, major, minor, patch string // {{version}} is major.minor.patch[-pre]
	prerelease                bool
}

// parseVersion reads a ref as metadata-action does: v2.1.0 gives version
// 2.1.0, major 2, minor 1, patch 0; v2.1.0-rc.1 gives version 2.1.0-rc.1
// (build metadata is dropped, as node-semver's version does).
func parseVersion(ref string) version {
	m := semverRef.FindStringSubmatch(ref)
	if m == nil {
		return version{}
	}
	return version{ok: true, full: m[1] + "." + m[2] + "." + m[3] + m[4], major: m[1], minor: m[2], patch: m[3], prerelease: m[4] != ""}
}

// usesParts reports whether a template names {major}, {minor} or {patch}.
func usesParts(tpl string) bool {
	return strings.Contains(tpl, "{major}") || strings.Contains(tpl, "{minor}") || strings.Contains(tpl, "{patch}")
}

// expand fills a tag template. {version} is metadata-action's {{version}}
// for a semver ref and the ref itself otherwise (a branch). For a
// prerelease, metadata-action gives every semver pattern the whole
// version ("pre-releases only extend {{version}}"), so a template naming
// {major}, {minor} or {patch} becomes "{version}" (plus {suffix} if it has
// one): v2.1.0-rc.1 under "{major}" is 2.1.0-rc.1.
func expand(tpl string, rel Release, suffix string) string {
	sha7 := rel.SHA
	if len(sha7) > 7 {
		sha7 = sha7[:7]
	}
	v := parseVersion(rel.Ref)
	full := rel.Ref
	if v.ok {
		full = v.full
	}
	if v.prerelease && usesParts(tpl) {
		t := "{version}"
		if strings.Contains(tpl, "{suffix}") {
			t += "{suffix}"
		}
		tpl = t
	}
	return strings.NewReplacer("{ref}", rel.Ref, "{sha7}", sha7, "{suffix}", suffix,
		"{version}", full, "{major}", v.major, "{minor}", v.minor, "{patch}", v.patch).Replace(tpl)
}

// seriesTags are the tags.also tags of a semver release, after the tags
// already listed (a prerelease's series tags collapse onto its version tag
// and are not written twice).
func (c Config) seriesTags(rel Release, suffix string, have []TagRef) []TagRef {
	if !parseVersion(rel.Ref).ok {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range have {
		seen[t.Tag] = true
	}
	var out []TagRef
	for _, tpl := range c.Tags.Also {
		tag := expand(tpl, rel, suffix)
		if tag == "" || seen[tag] {
			continue
		}
		seen[tag] = true
		out = append(out, TagRef{Tag: tag, Role: RoleSeries})
	}
	return out
}

// releaseHole splits the release template around the placeholder that
// carries the version ({ref} or {version}) for reading a release back out
// of a tag name.
func releaseHole(tpl string) (pre, post string, ok bool) {
	for _, ph := range []string{"{ref}", "{version}"} {
		if pre, post, ok = strings.Cut(tpl, ph); ok {
			return pre, post, true
		}
	}
	return "", "", false
}

// inSeries returns the test "release n is in tag's series": the tags.also
// template that gives tag for rel gives it for n too (2.1 for v2.1.3, not
// for v2.2.0). nil, any release, for latest or a tag of no series.
func (c Config) inSeries(rel Release, suffix, tag string) func(Release) bool {
	suffix = c.tagSuffix(suffix)
	for _, tpl := range c.Tags.Also {
		if tag != "" && expand(tpl, rel, suffix) == tag {
			return func(n Release) bool { return expand(tpl, n, suffix) == tag }
		}
	}
	return nil
}

// NewerInSeries is NewerRelease for a forward-only tag: the newest release
// among tags strictly newer than rel and in tag's series ("" for none).
func (c Config) NewerInSeries(rel Release, suffix, tag string, tags []string) string {
	return c.newerRelease(rel, suffix, tags, c.inSeries(rel, suffix, tag))
}
