package release

// The matrix's YAML, read node by node (so every problem names its line),
// and the grouping of its entries into backends.

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// matrixEntries returns the entries of an include list; a key present but
// not a list is an error, since nothing under it can be understood.
func matrixEntries(name string, n *yaml.Node, key string) ([]*yaml.Node, error) {
	n = matrixDeref(n)
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil, nil
	case n.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("matrix %s:%d: %s is not a list", name, n.Line, key)
	}
	return n.Content, nil
}

// matrixLookup finds a key in a mapping node.
func matrixLookup(n *yaml.Node, key string) (*yaml.Node, bool) {
	n = matrixDeref(n)
	if n.Kind != yaml.MappingNode {
		return nil, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1], true
		}
	}
	return nil, false
}

// matrixDeref follows one alias. Unmarshal into a Node never expands
// aliases, so a chain cannot blow up; one hop is all YAML allows anyway.
func matrixDeref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// matrixField is a scalar field of an entry, "" when absent, null or not a
// scalar (such entries are then reported as missing that field).
func matrixField(entry *yaml.Node, key string) string {
	v, ok := matrixLookup(entry, key)
	if !ok {
		return ""
	}
	if v = matrixDeref(v); v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

// matrixGrouper folds matrix entries into backends by exact tag-suffix.
type matrixGrouper struct {
	name     string
	order    []string
	backends map[string]*BackendSpec
	legLines map[string]map[string]int // suffix -> platform-tag -> entry line
	problems []string
}

func newMatrixGrouper(name string) *matrixGrouper {
	return &matrixGrouper{name: name, backends: map[string]*BackendSpec{}, legLines: map[string]map[string]int{}}
}

// problem records a finding on the backend (when it exists) and in the
// matrix-wide list, which also names the suffix.
func (g *matrixGrouper) problem(suffix string, line int, format string, args ...any) {
	msg := fmt.Sprintf("matrix line %d: ", line) + fmt.Sprintf(format, args...)
	if b := g.backends[suffix]; b != nil {
		b.Problems = append(b.Problems, msg)
	}
	if suffix != "" {
		msg = suffix + ": " + msg
	}
	g.problems = append(g.problems, msg)
}

// entry reads the fields every entry kind shares; ok is false (and a
// problem recorded) when the entry cannot name a backend.
func (g *matrixGrouper) entry(e *yaml.Node, list string) (suffix, name string, line int, ok bool) {
	line = e.Line
	e = matrixDeref(e)
	if e.Kind != yaml.MappingNode {
		g.problem("", line, "%s entry is not a mapping; skipped", list)
		return "", "", line, false
	}
	suffix = matrixField(e, "tag-suffix")
	if suffix == "" {
		g.problem("", line, "%s entry has no tag-suffix; skipped", list)
		return "", "", line, false
	}
	name = matrixField(e, "backend")
	return suffix, name, line, true
}

func (g *matrixGrouper) create(suffix, name string, kind Kind, line int) *BackendSpec {
	b := &BackendSpec{Suffix: suffix, Name: name, Kind: kind, Line: line}
	g.backends[suffix] = b
	g.legLines[suffix] = map[string]int{}
	g.order = append(g.order, suffix)
	return b
}

// addLinux adds one include entry: a leg of a multiarch backend when it has
// a platform-tag, else the only leg of a single-arch backend.
func (g *matrixGrouper) addLinux(e *yaml.Node) {
	suffix, name, line, ok := g.entry(e, "include")
	if !ok {
		return
	}
	e = matrixDeref(e)
	ptag := matrixField(e, "platform-tag")
	platform := matrixField(e, "platforms")
	tagged := ptag != ""
	if tagged && ptag != "amd64" && ptag != "arm64" {
		g.problem(suffix, line, "platform-tag %q is not amd64 or arm64; entry skipped", ptag)
		return
	}
	b := g.backends[suffix]
	if b == nil {
		kind := KindSingle
		if tagged {
			kind = KindMultiarch
		}
		b = g.create(suffix, name, kind, line)
	}
	if (b.Kind == KindMultiarch) != tagged {
		g.problem(suffix, line, "mixes entries with and without platform-tag (first at line %d); entry skipped", b.Line)
		return
	}
	what, want := "no platform-tag", "linux/amd64"
	if tagged {
		what, want = "platform-tag "+ptag, "linux/"+ptag
	} else {
		ptag = "single"
	}
	if first, dup := g.legLines[suffix][ptag]; dup {
		g.problem(suffix, line, "second entry with %s (first at line %d); keeping the first", what, first)
		return
	}
	switch {
	case platform == "":
		platform = want
		g.problem(suffix, line, "no platforms; assuming %s", platform)
	case tagged && platform != want:
		g.problem(suffix, line, "platform-tag %s but platforms %s", ptag, platform)
	}
	g.legLines[suffix][ptag] = line
	b.Legs = append(b.Legs, LegSpec{PlatformTag: ptag, Platform: platform})
}

// addDarwin adds one includeDarwin entry: a plain tagged image, one leg.
func (g *matrixGrouper) addDarwin(e *yaml.Node) {
	suffix, name, line, ok := g.entry(e, "includeDarwin")
	if !ok {
		return
	}
	if b := g.backends[suffix]; b != nil {
		if b.Kind == KindDarwin {
			g.problem(suffix, line, "second includeDarwin entry (first at line %d); keeping the first", b.Line)
		} else {
			g.problem(suffix, line, "suffix is in both include (line %d) and includeDarwin; darwin entry skipped", b.Line)
		}
		return
	}
	platform := matrixField(matrixDeref(e), "platforms")
	if platform == "" {
		platform = "darwin/arm64"
	}
	b := g.create(suffix, name, KindDarwin, line)
	g.legLines[suffix]["single"] = line
	b.Legs = []LegSpec{{PlatformTag: "single", Platform: platform}}
}

// finish orders legs (amd64 before arm64, as the merge lists children) and
// flags multiarch backends left with one leg.
func (g *matrixGrouper) finish() *Matrix {
	m := &Matrix{Path: g.name}
	for _, s := range g.order {
		// A platform-tag with no sibling (LocalAI's amd64-only backends)
		// is no mistake: it is merged like any other, into a one-entry
		// list.
		b := g.backends[s]
		if b.Kind == KindMultiarch && len(b.Legs) == 2 && b.Legs[0].PlatformTag == "arm64" {
			b.Legs[0], b.Legs[1] = b.Legs[1], b.Legs[0]
		}
	}
	for _, s := range g.order {
		m.Backends = append(m.Backends, *g.backends[s])
	}
	m.Problems = g.problems
	return m
}
