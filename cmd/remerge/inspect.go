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
)

// defaultWidth is the table width when stdout is not a terminal.
const defaultWidth = 100

func newInspectCmd(o *options, stdout io.Writer) *cobra.Command {
	var (
		format   string
		backends []string
		width    int
	)
	cmd := &cobra.Command{
		Use:   "inspect --release REF",
		Short: "Report every backend of a release without a terminal UI",
		Long: `inspect probes every leg of every backend in every repo and every release tag
in every target, and prints the result as a table, JSON (the documented
contract) or markdown (for a GitHub step summary).

Exit codes: 0 every backend ok; 1 something broken, or nothing could be
checked (every registry down or denying: the reason is on stderr); 2 usage or
input error, such as a matrix with no backend.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write, err := reportWriter(format, width, stdout)
			if err != nil {
				return err
			}
			rep, err := inspectRelease(cmd.Context(), o, backends)
			if err != nil {
				return err
			}
			if err := write(stdout, rep); err != nil {
				return err
			}
			if none, why := nothingChecked(rep); none {
				return fmt.Errorf("inspect %s: nothing could be checked: %s", describeRelease(rep.Release), why)
			}
			if rep.Summary.Broken() || rep.Summary.OK != len(rep.Backends) {
				return errBroken
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output format: table, json or markdown")
	f.StringArrayVar(&backends, "backend", nil, "inspect only this tag-suffix, matched exactly (repeatable)")
	f.IntVar(&width, "width", 0, "table width in columns (default: the terminal's, or 100)")
	return cmd
}

// reportWriter picks the renderer for --format, checked before any work.
func reportWriter(format string, width int, stdout io.Writer) (func(io.Writer, *inspect.Report) error, error) {
	if width < 0 {
		return nil, usagef("--width %d: want a positive number of columns", width)
	}
	switch format {
	case "table":
		if width == 0 {
			width = terminalWidth(stdout)
		}
		return func(w io.Writer, r *inspect.Report) error { return inspect.WriteTable(w, r, width) }, nil
	case "json":
		return inspect.WriteJSON, nil
	case "markdown", "md":
		return inspect.WriteMarkdown, nil
	default:
		return nil, usagef("--format %q: want table, json or markdown", format)
	}
}

// inspectRelease loads every input, then runs the inspection. Input errors
// come back as usage errors; an interrupted run as a plain error (exit 1).
func inspectRelease(ctx context.Context, o *options, backends []string) (*inspect.Report, error) {
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
