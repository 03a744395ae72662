package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
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

// forbiddenChains returns, for each forbidden package reachable from a
// root, the import chain that reaches it ("a -> b -> c").
func forbiddenChains(pkgs map[string]listedPackage, roots []string) []string {
	forbidden := func(p listedPackage) bool {
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
