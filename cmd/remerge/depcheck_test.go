package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The libraries must stay free of terminal code (STYLE.md, habit 1): a
// script, CI job or other program can import inspect and repair without
// pulling in a TUI. Only cmd/ and tui/ may import these.
var terminalModules = []string{
	"charm.land/",
	"github.com/charmbracelet/",
}

// libraries are the packages that must not import terminal code.
var libraries = []string{
	"github.com/go-skynet/remerge/inspect",
	"github.com/go-skynet/remerge/repair",
	"github.com/go-skynet/remerge/internal/registry",
	"github.com/go-skynet/remerge/internal/report",
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Module     *struct{ Path string }
}

// listDeps runs `go list -deps -json` on roots and returns every package of
// their import graph (tests excluded), keyed by import path.
func listDeps(t *testing.T, roots ...string) map[string]listedPackage {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"list", "-deps", "-json"}, roots...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(roots, " "), err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// isTerminalCode reports whether p is terminal code (a charm module).
func isTerminalCode(p listedPackage) bool {
	path := p.ImportPath
	if p.Module != nil {
		path = p.Module.Path + "/"
	}
	for _, m := range terminalModules {
		if strings.HasPrefix(path, m) || strings.HasPrefix(p.ImportPath, m) {
			return true
		}
	}
	return false
}

// forbiddenChains returns, for each terminal package reachable from a
// root, the import chain that reaches it ("a -> b -> c").
func forbiddenChains(pkgs map[string]listedPackage, roots []string) []string {
	return chainsTo(pkgs, roots, isTerminalCode)
}

// chainsTo returns, for each package reachable from a root for which
// forbidden is true, the shortest import chain that reaches it.
func chainsTo(pkgs map[string]listedPackage, roots []string, forbidden func(listedPackage) bool) []string {
	var chains []string
	for _, root := range roots {
		// Breadth-first, so each reported chain is a shortest one.
		prev := map[string]string{root: ""}
		queue := []string{root}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			p, ok := pkgs[cur]
			if !ok {
				continue
			}
			if forbidden(p) {
				chain := []string{cur}
				for at := prev[cur]; at != ""; at = prev[at] {
					chain = append([]string{at}, chain...)
				}
				chains = append(chains, strings.Join(chain, " -> "))
				continue
			}
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return chains
}

// TestLibrariesImportNoTerminalCode fails when inspect, repair or the
// registry client transitively import bubbletea, lipgloss, bubbles or any
// charm module, and names the import chain to cut.
func TestLibrariesImportNoTerminalCode(t *testing.T) {
	pkgs := listDeps(t, libraries...)
	for _, lib := range libraries {
		if _, ok := pkgs[lib]; !ok {
			t.Errorf("%s was not listed; is the path right?", lib)
		}
	}
	for _, chain := range forbiddenChains(pkgs, libraries) {
		t.Errorf("library imports terminal code: %s", chain)
	}
}

// TestDepcheckCatchesTerminalImports makes sure the check above can fail:
// lipgloss itself must be flagged.
func TestDepcheckCatchesTerminalImports(t *testing.T) {
	const root = "charm.land/lipgloss/v2"
	chains := forbiddenChains(listDeps(t, root), []string{root})
	if len(chains) == 0 {
		t.Fatalf("%s not flagged as terminal code", root)
	}
}

// TestForbiddenChainsNamesThePath checks the chain reported for an indirect
// import on a hand-made graph.
func TestForbiddenChainsNamesThePath(t *testing.T) {
	pkgs := map[string]listedPackage{
		"lib":                     {ImportPath: "lib", Imports: []string{"fmt", "mid"}},
		"fmt":                     {ImportPath: "fmt"},
		"mid":                     {ImportPath: "mid", Imports: []string{"charm.land/bubbletea/v2"}},
		"charm.land/bubbletea/v2": {ImportPath: "charm.land/bubbletea/v2"},
	}
	got := forbiddenChains(pkgs, []string{"lib"})
	want := "lib -> mid -> charm.land/bubbletea/v2"
	if len(got) != 1 || got[0] != want {
		t.Errorf("chains = %q, want [%q]", got, want)
	}
}

// Neither shipped binary (remerge, remerge-demo) links test code or the
// test harness; the demo's registries (internal/loopreg) link none of the
// server stack only a production registry deployment needs.
// Each entry is an import path prefix ("x" matches x and x/...).
var notInBinary = []struct{ prefix, why string }{
	{"testing", "test code"},
	{"github.com/go-skynet/remerge/internal/testkit/testreg", "the test harness"},
	{"github.com/go-skynet/remerge/internal/testkit/scenariotest", "the test harness"},
	{"github.com/go-skynet/remerge/internal/testkit", "test support (the harness, the buildx oracle, pinned tools)"},
	{"github.com/go-skynet/remerge/internal/testkit/tools", "the pinned test tools"},
	{"github.com/go-skynet/remerge/internal/testkit/actiontest", "the action's tests"},
	{"go.uber.org/goleak", "test code"},
	{"github.com/stretchr/testify", "test code"},
	// distribution's storage drivers embed its base driver, whose tracing
	// package starts the OpenTelemetry SDK with every exporter; loopreg
	// has its own in-memory driver instead.
	{"github.com/distribution/distribution/v3/registry/storage/driver/base", "distribution's storage drivers (OpenTelemetry SDK, gRPC)"},
	{"github.com/distribution/distribution/v3/tracing", "distribution's tracing (OpenTelemetry SDK, gRPC)"},
	{"go.opentelemetry.io/otel/sdk", "the OpenTelemetry SDK"},
	{"go.opentelemetry.io/otel/exporters", "OpenTelemetry exporters"},
	{"go.opentelemetry.io/contrib", "OpenTelemetry exporters"},
	{"google.golang.org/grpc", "gRPC"},
	// The demo serves without auth; htpasswd is the tests'.
	{"github.com/distribution/distribution/v3/registry/auth/htpasswd", "registry auth only tests use"},
}

func excludedFromBinary(p listedPackage) bool {
	for _, n := range notInBinary {
		if p.ImportPath == n.prefix || strings.HasPrefix(p.ImportPath, n.prefix+"/") {
			return true
		}
	}
	return false
}

// commands lists the packages under ./cmd, the binaries remerge ships
// (remerge and remerge-demo).
func commands(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "../...").Output()
	if err != nil {
		t.Fatalf("go list ../...: %v", err)
	}
	cmds := strings.Fields(string(out))
	if len(cmds) == 0 {
		t.Fatal("go list ../... listed no command")
	}
	return cmds
}

// TestBinaryLinksNoTestHarness fails when a command under ./cmd imports,
// directly or not, test code, the test harness or a heavy package the demo
// does not need, and names the import chain to cut.
func TestBinaryLinksNoTestHarness(t *testing.T) {
	cmds := commands(t)
	pkgs := listDeps(t, cmds...)
	for _, chain := range chainsTo(pkgs, cmds, excludedFromBinary) {
		t.Errorf("the binary links what it must not: %s", chain)
	}
}

// TestBinaryReachesNoInternals: no package of this module imports unsafe,
// the tool a reach into a dependency's unexported fields needs. Test files
// are not listed by go list -deps, so tests may.
func TestBinaryReachesNoInternals(t *testing.T) {
	cmds := commands(t)
	pkgs := listDeps(t, cmds...)
	const module = "github.com/go-skynet/remerge"
	for _, chain := range chainsTo(pkgs, cmds, func(p listedPackage) bool {
		return p.Module != nil && p.Module.Path == module && slices.Contains(p.Imports, "unsafe")
	}) {
		t.Errorf("imports unsafe: %s", chain)
	}
}

// TestDepcheckCatchesTheHarness makes sure the binary check can fail: the
// test harness itself, and distribution's filesystem driver, are flagged.
func TestDepcheckCatchesTheHarness(t *testing.T) {
	for _, root := range []string{
		"github.com/go-skynet/remerge/internal/testkit/scenariotest",
		"github.com/go-skynet/remerge/internal/testkit/imagetools",
		"github.com/distribution/distribution/v3/registry/storage/driver/filesystem",
	} {
		if chains := chainsTo(listDeps(t, root), []string{root}, excludedFromBinary); len(chains) == 0 {
			t.Errorf("%s not flagged", root)
		}
	}
}

// The remerge binary is the product: it speaks to registries and runs no
// registry server. The demo, which does, is cmd/remerge-demo (as crane's
// test registry is cmd/registry), so none of a server's stack is linked
// here: no distribution (whose storage drivers register themselves in
// init and whose logging changes logrus process-wide), none of the redis,
// prometheus and OpenTelemetry clients its handlers pull in, and no test
// code. Each entry is an import path prefix ("x" matches x and x/...).
var notInProduct = []struct{ prefix, why string }{
	{"github.com/distribution/", "a registry server (distribution)"},
	{"github.com/redis/", "distribution's redis cache client"},
	{"github.com/prometheus/", "distribution's metrics"},
	{"go.opentelemetry.io/", "distribution's tracing"},
	{"testing", "test code"},
	{"github.com/go-skynet/remerge/internal/loopreg", "the demo's registries"},
	{"github.com/go-skynet/remerge/internal/scenario", "the demo's seeder"},
	{"github.com/go-skynet/remerge/internal/demo", "the demo"},
	{"github.com/go-skynet/remerge/internal/testkit", "test support"},
}

// product is the remerge binary's package.
const product = "github.com/go-skynet/remerge/cmd/remerge"

func excludedFromProduct(p listedPackage) bool {
	for _, n := range notInProduct {
		if p.ImportPath == n.prefix || strings.HasPrefix(p.ImportPath, n.prefix) && (strings.HasSuffix(n.prefix, "/") || strings.HasPrefix(p.ImportPath, n.prefix+"/")) {
			return true
		}
	}
	return false
}

// TestProductLinksNoRegistryServer fails when `go list -deps
// ./cmd/remerge` holds a registry server's package, one of the clients
// only a server needs, the demo, or test code, and names the import chain
// to cut.
func TestProductLinksNoRegistryServer(t *testing.T) {
	pkgs := listDeps(t, product)
	if _, ok := pkgs[product]; !ok {
		t.Fatalf("%s was not listed; is the path right?", product)
	}
	for _, chain := range chainsTo(pkgs, []string{product}, excludedFromProduct) {
		t.Errorf("remerge links what only a registry server, the demo or a test needs: %s", chain)
	}
}

// TestProductDepcheckCanFail makes sure the check above flags what it
// names: the demo binary links distribution, redis, prometheus and
// OpenTelemetry through the demo's registries, and each is caught.
func TestProductDepcheckCanFail(t *testing.T) {
	const demo = "github.com/go-skynet/remerge/cmd/remerge-demo"
	pkgs := listDeps(t, demo)
	for _, want := range []string{"github.com/distribution/", "github.com/redis/", "github.com/prometheus/", "go.opentelemetry.io/", "github.com/go-skynet/remerge/internal/demo"} {
		found := false
		for path, p := range pkgs {
			if strings.HasPrefix(path, want) && excludedFromProduct(p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no package under %s flagged in %s's imports", want, demo)
		}
	}
	if !excludedFromProduct(listedPackage{ImportPath: "testing"}) || excludedFromProduct(listedPackage{ImportPath: "testingx"}) {
		t.Error(`"testing" must be flagged, and only it, not every path it prefixes`)
	}
}
