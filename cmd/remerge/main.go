// Command remerge shows, for every backend of a container-image release,
// whether each per-arch manifest is still reachable in each registry
// repository, and re-merges broken manifest lists. See README.md.
//
// This package wires flags to the libraries: inspect and repair for the
// work, internal/report for what is printed, internal/app for the TUI. It
// makes no registry request of its own, and links no registry server: the
// demo is cmd/remerge-demo (depcheck_test.go keeps it so).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-skynet/remerge/internal/app"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes shared by every command (DESIGN.md section 9).
const (
	exitOK     = 0 // every backend ok
	exitBroken = 1 // something is (still) broken, or the work failed
	exitUsage  = 2 // usage, configuration or input error
)

// usageError is a mistake in what the user gave remerge (a flag, the config
// file, the matrix, a digests folder): exit code 2 with a one-line reason.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef builds a usageError; the message should name the input at fault,
// e.g. `--format "yaml": want table, json or markdown`.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// asUsage marks an error from a library (config, matrix, digests parsers) as
// the user's input error. It keeps nil as nil.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err: err}
}

// errBroken says the command ran and what it printed is the answer: some
// backend is not ok (exit 1); app.ErrBroken, which the demo returns too.
var errBroken = app.ErrBroken

// run is main without the process: it parses args, runs the command and
// returns the exit code, so tests can call it in-process. The context is
// cancelled on SIGINT, SIGTERM and SIGHUP.
func run(args []string, stdout, stderr io.Writer) int {
	// SIGHUP too: a closed terminal must still stop the demo's registries
	// and remove its temp dir, and cancel between re-merge steps.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(newOptions(), stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil && !errors.Is(err, errBroken) {
		fmt.Fprintf(stderr, "remerge: %s\n", oneLine(err.Error()))
	}
	return code
}

// exitCode maps a command's error to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitBroken
	}
}

// oneLine folds a multi-line message (YAML decoders list errors on several
// lines) into the single line scripts and CI logs expect.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, " ")
}

// brokenIf is errBroken (exit 1) when b.
func brokenIf(b bool) error {
	if b {
		return errBroken
	}
	return nil
}
