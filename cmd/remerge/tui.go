package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
)

// runTUI opens the terminal UI on the release the flags name. Without a
// terminal it prints the inspect table instead, which is what a pipe wants.
// A variable so tests can replace it.
var runTUI = func(ctx context.Context, o *options, stdout io.Writer) error {
	if len(o.releases) > 1 {
		return runTUIReleases(ctx, o, stdout)
	}
	if !isTerminal(stdout) {
		return printTable(ctx, o, stdout)
	}
	l, err := o.load()
	if err != nil {
		return err
	}
	c := o.client(l.cfg)
	defer c.Close()
	if err := o.tuiSign.check(); err != nil {
		return err
	}
	return app.OpenTUI(ctx, o.service(l, c))
}

// service is what the TUI inspects and re-merges for one loaded release,
// through c.
func (o *options) service(l *loaded, c *registry.Client) *app.Service {
	return &app.Service{Release: l.rel, Config: l.cfg, Matrix: l.matrix, Digests: l.digests, Client: c, Deep: o.deep, Signer: o.tuiSign.signer}
}

// printTable is the TUI's face without a terminal: the inspect table.
func printTable(ctx context.Context, o *options, stdout io.Writer) error {
	rep, err := inspectRelease(ctx, o, nil)
	if err != nil {
		return err
	}
	return app.PrintTable(stdout, rep)
}

func newTUICmd(o *options, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Open the terminal UI (the default command)",
		Long: `tui opens the terminal UI. With --sign, a re-merge started with r or R
also signs what it publishes (and a list left unsigned) with CI's cosign
command, as repair --sign does.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), o, stdout)
		},
	}
	o.tuiSign.addFlags(cmd.Flags())
	return cmd
}
