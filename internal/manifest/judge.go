package manifest

import (
	"fmt"
	"strings"
)

// State is what a published tag is, judged against the release's expected
// children. The words are the tag states of the report.
type State string

// States.
const (
	// Complete: the release's image: a list naming exactly the expected
	// children (a one-entry list over a single leg, as current buildx
	// writes), each present in the repo and described truthfully, or a
	// bare manifest of the expected single digest (older buildx).
	Complete State = "complete"
	// Partial: some but not all of the expected children.
	Partial State = "partial"
	// Stale: none of the expected children (an older release, another run).
	Stale State = "stale"
	// Dangling: names the expected children but one is missing in the repo.
	Dangling State = "dangling"
	// Broken: names the expected children, all present, but a descriptor
	// misstates a child (size, media type or platform): pulls of it fail
	// or get the wrong image.
	Broken State = "broken"
	// Unknown: could not tell, because a child's probe did not answer.
	// Its word is the report's tag state "error" (release.TagError): a
	// tag has no state "unknown", which is a backend's verdict.
	Unknown State = "error"
)

// Expected is one leg of the release: its child digest and platform
// (os/arch[/variant]; empty to skip the platform check).
type Expected struct {
	Digest   string
	Platform string
}

// Presence is what a probe of one child in the tag's repo found.
type Presence int

// Presences.
const (
	// NotProbed: nobody asked.
	NotProbed Presence = iota
	// Present: the registry served the manifest.
	Present
	// Absent: the registry said it does not have it (404).
	Absent
	// Unanswered: the probe failed (denied, throttled, down): could not tell.
	Unanswered
)

// ChildState is a child's probe in the tag's repo.
type ChildState struct {
	Presence Presence
	// Size and MediaType as the registry served them (Present only; Size
	// < 0 or MediaType "" when not known).
	Size      int64
	MediaType string
	// Err is the probe's error text (Unanswered).
	Err string
}

// Judgement is the verdict on one published tag.
type Judgement struct {
	State State
	// Form says what the tag names: "one-entry list", "list of 2",
	// "bare manifest".
	Form string
	// Reason explains a state other than complete, in a clause.
	Reason string
	// Foreign: the tag names a digest that is not one of the expected
	// children.
	Foreign bool
}

// Unparseable is the one judgement of a tag whose bytes do not parse (not
// JSON, a list naming no child, a format remerge does not know): could not
// tell what it is. It is never a broken list to replace: what cannot be
// read may be an image of a newer format, and only a person decides.
// inspect and repair both judge such a tag with it.
func Unparseable(err error) Judgement {
	return Judgement{State: Unknown, Reason: "could not tell what it is: " + err.Error()}
}

// FormOf names what a manifest is, for the detail view.
func FormOf(m Manifest) string {
	switch {
	case !m.IsList():
		return "bare manifest"
	case len(m.Entries) == 1:
		return "one-entry list"
	default:
		return fmt.Sprintf("list of %d", len(m.Entries))
	}
}

// Judge decides what the published manifest m is for a release whose legs
// are want. child reports each named child's probe in m's repo; it is only
// asked about children the decision needs. A child whose probe did not
// answer never reads as missing: the judgement is then Unknown.
func Judge(m Manifest, want []Expected, child func(digest string) ChildState) Judgement {
	j := Judgement{Form: FormOf(m)}
	exp := map[string]Expected{}
	for _, w := range want {
		if w.Digest != "" {
			exp[w.Digest] = w
		}
	}
	if !m.IsList() {
		_, ok := exp[m.Digest]
		j.Foreign = !ok
		switch {
		case ok && len(exp) == 1:
			j.State = Complete
		case ok:
			j.State, j.Reason = Partial, "a bare manifest of one leg, not a list of all of them"
		default:
			j.State, j.Reason = Stale, "other digests"
		}
		return j
	}
	shared := map[string]bool{}
	for _, e := range m.Entries {
		if _, ok := exp[e.Digest]; ok {
			shared[e.Digest] = true
		} else {
			j.Foreign = true
		}
	}
	switch {
	case len(shared) == 0:
		j.State, j.Reason = Stale, "other digests"
		return j
	case j.Foreign || len(shared) < len(exp) || len(m.Entries) != len(shared):
		j.State, j.Reason = Partial, "names only some of the expected children"
		if j.Foreign {
			j.Reason = "names some of the expected children and others"
		}
		return j
	}
	var unknown, missing, lies []string
	for _, e := range m.Entries {
		c := child(e.Digest)
		switch c.Presence {
		case Absent:
			missing = append(missing, Short(e.Digest))
			continue
		case Unanswered, NotProbed:
			why := c.Err
			if why == "" {
				why = "not probed"
			}
			unknown = append(unknown, fmt.Sprintf("%s (%s)", Short(e.Digest), why))
			continue
		}
		if lie := misstated(e, exp[e.Digest], c); lie != "" {
			lies = append(lies, lie)
		}
	}
	switch {
	case len(missing) > 0:
		j.State, j.Reason = Dangling, "names "+strings.Join(missing, ", ")+", missing in that repo: pulls fail for that platform"
	case len(unknown) > 0:
		j.State, j.Reason = Unknown, "could not check child "+strings.Join(unknown, ", ")
	case len(lies) > 0:
		j.State, j.Reason = Broken, strings.Join(lies, "; ")
	default:
		j.State = Complete
	}
	return j
}

// misstated returns how a list entry misdescribes a present child, "" when
// it does not.
func misstated(e Descriptor, want Expected, c ChildState) string {
	switch {
	case c.Size >= 0 && e.Size != c.Size:
		declared := fmt.Sprintf("a size of %d bytes", e.Size)
		if e.Size < 0 {
			declared = "no size"
		}
		return fmt.Sprintf("gives child %s %s but the registry serves %d: pulls of it fail", Short(e.Digest), declared, c.Size)
	case c.MediaType != "" && e.MediaType != "" && e.MediaType != c.MediaType:
		return fmt.Sprintf("gives child %s media type %s but the registry serves %s", Short(e.Digest), e.MediaType, c.MediaType)
	case want.Platform != "" && e.Platform != "" && !SamePlatform(e.Platform, want.Platform):
		return fmt.Sprintf("names child %s as %s; it is the %s leg", Short(e.Digest), e.Platform, want.Platform)
	case want.Platform != "" && e.Platform == "":
		return fmt.Sprintf("names child %s with no platform: clients cannot pick it", Short(e.Digest))
	}
	return ""
}

// Short abbreviates a digest for prose: sha256: and 12 hex.
func Short(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// ShortAll is Short of each digest.
func ShortAll(ds []string) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = Short(d)
	}
	return out
}
