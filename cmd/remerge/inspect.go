package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// defaultWidth is the table width when stdout is not a terminal.
const defaultWidth = 100

func newInspectCmd(o *options, stdout io.Writer) *cobra.Command {
	var (
		format   string
		backends []string
		width    int
		failOn   string
		jsonFile string
	)
	cmd := &cobra.Command{
		Use:   "inspect --release REF",
		Short: "Report every backend of a release without a terminal UI",
		Long: `inspect probes every leg of every backend in every repo and every release tag
in every target, and prints the result as a table, JSON (the documented
contract), markdown (for a GitHub step summary) or github (workflow-command
annotations, the markdown appended to $GITHUB_STEP_SUMMARY and the verdict
counts to $GITHUB_OUTPUT).

--fail-on makes it a release gate: the exit code then answers whether any
user-facing tag (latest-<suffix>, the branch tag, a darwin release tag)
meets one of the named conditions (` + release.GateVocabulary() + `), rather than
whether every backend is ok. A tag the registry did not answer fails it too.

Exit codes: 0 every backend ok (or the gate passes); 1 something broken (or
the gate fails), a registry's pull quota is spent (its limit and the way out
are on stderr; what was not judged there is unknown), or nothing could be
checked (every registry down or denying: the reason is on stderr); 2 usage
or input error, such as a matrix with no backend.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write, err := reportWriter(format, width, stdout)
			if err != nil {
				return err
			}
			gate, err := parseFailOn(failOn, cmd.Flags().Changed("fail-on"))
			if err != nil {
				return err
			}
			var gh githubFiles
			if format == formatGitHub {
				if gh, err = githubFilesFromEnv(); err != nil {
					return err
				}
			}
			if err := checkJSONFile(jsonFile); err != nil {
				return err
			}
			rep, err := inspectRelease(cmd.Context(), o, backends)
			if err != nil {
				return err
			}
			if err := write(stdout, rep); err != nil {
				return err
			}
			if err := writeJSONFile(jsonFile, rep); err != nil {
				return err
			}
			if err := gh.publishReport(rep); err != nil {
				return err
			}
			// A spent pull quota is said on stderr whatever the format:
			// the cause and the way out, and the exit is 1.
			spent := sayQuotas(rep, cmd.ErrOrStderr(), "")
			if none, why := nothingChecked(rep); none {
				return fmt.Errorf("inspect %s: nothing could be checked: %s", describeRelease(rep.Release), why)
			}
			if gate.Empty() {
				return brokenIf(rep.Summary.Broken() || spent)
			}
			return brokenAlso(gateVerdict(gate, rep, format, stdout, cmd.ErrOrStderr()), spent)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output format: table, json, markdown or github")
	f.StringVar(&failOn, "fail-on", "", "release gate: exit 1 when a user-facing tag meets any of these comma-separated conditions: "+release.GateVocabulary())
	f.StringVar(&jsonFile, "json-file", "", "also write the JSON report to this file, whatever --format")
	f.StringArrayVar(&backends, "backend", nil, "inspect only this tag-suffix, matched exactly (repeatable)")
	f.IntVar(&width, "width", 0, "table width in columns (default: the terminal's, or 100)")
	return cmd
}

// reportWriter picks the renderer for --format, checked before any work.
func reportWriter(format string, width int, stdout io.Writer) (func(io.Writer, *release.Report) error, error) {
	if width < 0 {
		return nil, usagef("--width %d: want a positive number of columns", width)
	}
	switch format {
	case "table":
		if width == 0 {
			width = terminalWidth(stdout)
		}
		return func(w io.Writer, r *release.Report) error { return report.WriteTable(w, r, width) }, nil
	case "json":
		return report.WriteJSON, nil
	case "markdown", "md":
		return report.WriteMarkdown, nil
	case formatGitHub:
		return report.WriteGitHub, nil
	default:
		return nil, usagef("--format %q: want table, json, markdown or github", format)
	}
}

// inspectRelease loads every input, then runs the inspection. Input errors
// come back as usage errors; an interrupted run as a plain error (exit 1).
func inspectRelease(ctx context.Context, o *options, backends []string) (*release.Report, error) {
	l, err := o.load()
	if err != nil {
		return nil, err
	}
	backends, err = resolveSuffixes("--backend", l.matrix, backends)
	if err != nil {
		return nil, err
	}
	c := o.client(l.cfg)
	defer c.Close()
	rep, err := inspect.Run(ctx, l.rel, l.inspectOptions(c, o.deep, backends)...)
	switch {
	case err == nil:
		return rep, nil
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("inspect %s: interrupted", describeRelease(l.rel))
	default:
		// Run fails only before probing, on inputs it cannot use.
		return nil, asUsage(err)
	}
}

// terminalWidth is the width of the terminal stdout writes to, or
// defaultWidth when it is not a terminal.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	return defaultWidth
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// checkJSONFile makes sure --json-file can be written before any work.
func checkJSONFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return usagef("--json-file: %w", err)
	}
	return f.Close()
}

// writeJSONFile writes the JSON report to --json-file, when given.
func writeJSONFile(path string, rep *release.Report) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--json-file: %w", err)
	}
	err = report.WriteJSON(f, rep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// gateVerdict is the exit of `inspect --fail-on`: one line per failing
// user-facing tag on stderr (and as an error annotation with --format
// github), then errBroken; nil when the gate passes.
func gateVerdict(g release.Gate, rep *release.Report, format string, stdout, stderr io.Writer) error {
	findings := g.Check(rep)
	for _, f := range findings {
		fmt.Fprintf(stderr, "remerge: --fail-on: %s\n", f)
	}
	if format == formatGitHub {
		if err := report.WriteAnnotations(stdout, gateAnnotations(findings)); err != nil {
			return err
		}
	}
	return brokenIf(len(findings) > 0)
}
