package release

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxMatrixSize bounds the matrix file read into memory. LocalAI's matrix is
// a few hundred KiB; anything past this is not a backend matrix, and reading
// it whole would make memory use depend on an input we do not control.
const MaxMatrixSize = 32 << 20

// LegSpec is one platform a backend is built for, as the matrix declares it.
type LegSpec struct {
	// PlatformTag is amd64, arm64 or single: the last word of the keepalive
	// tag and of the digests artifact name.
	PlatformTag string
	// Platform is the matrix's `platforms` value, e.g. linux/amd64.
	Platform string
}

// BackendSpec is one backend of the matrix: every entry sharing one
// tag-suffix. Problems are matrix mistakes found while grouping; they are
// shown to the maintainer, never fatal, because the rest of the matrix is
// still worth inspecting.
type BackendSpec struct {
	Suffix   string
	Name     string // the matrix `backend` field
	Kind     Kind
	Legs     []LegSpec // amd64 before arm64
	Problems []string
	Line     int // line of the backend's first entry
}

// Matrix is the parsed backend list. Problems collects every backend's
// problems plus the ones that belong to no backend (an entry without a
// tag-suffix).
type Matrix struct {
	Path          string
	Backends      []BackendSpec // linux in matrix order, then darwin
	Problems      []string
	Entries       int // entries under include
	DarwinEntries int // entries under includeDarwin
}

// MatrixStats are the numbers a maintainer checks a matrix against
// (DESIGN.md section 2 lists LocalAI's).
type MatrixStats struct {
	Entries  int // include entries
	Suffixes int // distinct linux tag-suffixes (darwin ones are not counted)
	Pairs    int // multiarch backends with both legs
	OneLeg   int // multiarch backends with a single leg (a matrix mistake)
	Darwin   int // includeDarwin entries
	// PrefixCollisions counts pairs of linux suffixes where one is a proper
	// prefix of the other (-cpu-kokoro / -cpu-kokoros): the pairs a prefix
	// match would confuse.
	PrefixCollisions int
}

// LoadMatrix reads and parses a matrix file, refusing files over
// MaxMatrixSize before reading them.
func LoadMatrix(path string) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("matrix %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("matrix %s: %w", path, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("matrix %s: is a directory", path)
	} else if st.Size() > MaxMatrixSize {
		return nil, fmt.Errorf("matrix %s: %d bytes is over the %d byte limit", path, st.Size(), MaxMatrixSize)
	}
	// The limit reader guards against a file growing after Stat.
	b, err := io.ReadAll(io.LimitReader(f, MaxMatrixSize+1))
	if err != nil {
		return nil, fmt.Errorf("matrix %s: %w", path, err)
	}
	return ParseMatrix(path, b)
}

var (
	yamlErrLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	yamlErrUnknownKey = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlPositionedError rewrites a YAML error as one line in the
// compiler's "what file:line: message" form, which editors jump to. The
// library's own form spans several lines for unmarshal errors and names Go
// types ("field x not found in type release.Config"), which mean nothing to
// the person editing the file.
func yamlPositionedError(what, name string, err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	pos, out := name, make([]string, len(msgs))
	for i, msg := range msgs {
		line := ""
		if sm := yamlErrLine.FindStringSubmatch(msg); sm != nil {
			line, msg = sm[1], msg[len(sm[0]):]
		}
		if sm := yamlErrUnknownKey.FindStringSubmatch(msg); sm != nil {
			msg = "unknown key " + sm[1]
		}
		if i == 0 && line != "" {
			pos += ":" + line
		} else if line != "" {
			msg = "line " + line + ": " + msg
		}
		out[i] = msg
	}
	return fmt.Errorf("%s %s: %s", what, pos, strings.Join(out, "; "))
}

// ParseMatrix parses matrix bytes; name is used in errors and problems.
// Malformed YAML and a missing `include` key are errors; mistakes inside
// the matrix are Problems.
func ParseMatrix(name string, b []byte) (m *Matrix, err error) {
	if len(b) > MaxMatrixSize {
		return nil, fmt.Errorf("matrix %s: %d bytes is over the %d byte limit", name, len(b), MaxMatrixSize)
	}
	// The YAML library is third-party code fed untrusted input: a panic in
	// it must become an error, not a crashed TUI.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("matrix %s: yaml parser failed: %v", name, r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlPositionedError("matrix", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("matrix %s: empty document, no include key", name)
	}
	root := matrixDeref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("matrix %s:%d: top level is not a mapping", name, root.Line)
	}
	include, ok := matrixLookup(root, "include")
	if !ok {
		return nil, fmt.Errorf("matrix %s: no include key", name)
	}
	linux, err := matrixEntries(name, include, "include")
	if err != nil {
		return nil, err
	}
	var darwin []*yaml.Node
	if d, ok := matrixLookup(root, "includeDarwin"); ok {
		darwin, err = matrixEntries(name, d, "includeDarwin")
	}
	if err != nil {
		return nil, err
	}
	g := newMatrixGrouper(name)
	for _, e := range linux {
		g.addLinux(e)
	}
	for _, e := range darwin {
		g.addDarwin(e)
	}
	m = g.finish()
	m.Entries, m.DarwinEntries = len(linux), len(darwin)
	return m, nil
}

// Backend returns the backend with exactly this suffix: -cpu-kokoro never
// finds -cpu-kokoros.
func (m *Matrix) Backend(suffix string) (BackendSpec, bool) {
	for _, b := range m.Backends {
		if b.Suffix == suffix {
			return b, true
		}
	}
	return BackendSpec{}, false
}

// Stats counts the matrix the way DESIGN.md describes it.
func (m *Matrix) Stats() MatrixStats {
	s := MatrixStats{Entries: m.Entries, Darwin: m.DarwinEntries}
	var linux []string
	for _, b := range m.Backends {
		if b.Kind == KindDarwin {
			continue
		}
		linux = append(linux, b.Suffix)
		s.Suffixes++
		if b.Kind == KindMultiarch {
			switch len(b.Legs) {
			case 2:
				s.Pairs++
			case 1:
				s.OneLeg++
			}
		}
	}
	for i, a := range linux {
		for j, o := range linux {
			if i != j && strings.HasPrefix(o, a) {
				s.PrefixCollisions++
			}
		}
	}
	return s
}
