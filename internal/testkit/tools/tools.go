// Package tools finds the pinned real tools the tests use as oracles:
// docker buildx, cosign and actionlint. `make tools` (run by `make test`)
// installs each with `go install module@version` into a cache it reuses
// and exports its path as REMERGE_<NAME> (REMERGE_BUILDX, ...).
//
// Only tests import this package.
package tools

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tool is one pinned tool.
type Tool struct {
	Name    string // binary name
	Module  string // go install path
	Version string
}

// Pinned tools. The Makefile installs the same versions; a test checks the
// two agree.
var (
	Buildx     = Tool{Name: "buildx", Module: "github.com/docker/buildx/cmd/buildx", Version: "v0.36.1"}
	Cosign     = Tool{Name: "cosign", Module: "github.com/sigstore/cosign/v2/cmd/cosign", Version: "v2.4.1"}
	Actionlint = Tool{Name: "actionlint", Module: "github.com/rhysd/actionlint/cmd/actionlint", Version: "v1.7.12"}
)

// Env is the environment variable naming the tool's binary.
func (t Tool) Env() string { return "REMERGE_" + strings.ToUpper(t.Name) }

// Find returns the tool's path: $REMERGE_<NAME>, else the name on PATH.
func (t Tool) Find() (string, error) {
	if p := os.Getenv(t.Env()); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", t.Env(), p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath(t.Name)
	if err != nil {
		return "", fmt.Errorf("%s %s not found: run `make tools` (or set %s); it installs %s@%s", t.Name, t.Version, t.Env(), t.Module, t.Version)
	}
	return p, nil
}

// Require returns the tool's path. Without it the test fails under CI
// (CI=true), where `make test` must have installed it, and is skipped
// elsewhere with the command that installs it.
func (t Tool) Require(tb testing.TB) string {
	tb.Helper()
	p, err := t.Find()
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%v", err)
	}
	tb.Skipf("%v", err)
	return ""
}
