package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. remerge with no subcommand opens the
// TUI, as `remerge tui` does.
func newRootCmd(o *options, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "remerge",
		Short: "See and repair the manifest lists of a multi-backend image release",
		Long: `remerge shows, for every backend of a release, whether each per-arch
manifest digest is still reachable in each registry repository, and re-merges
the manifest list of a broken backend from wherever its children still live.

Exit codes: 0 every backend ok, 1 something broken, 2 usage or input error.`,
		Args:          noArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), o, stdout)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })
	o.addFlags(root.PersistentFlags())
	o.tuiSign.addFlags(root.Flags())
	root.AddCommand(
		newTUICmd(o, stdout),
		newInspectCmd(o, stdout),
		newRepairCmd(o, stdout, stderr),
		newRunsCmd(o, stdout),
		newDemoCmd(o, stdout),
		newVersionCmd(stdout),
	)
	return root
}

// noArgs rejects positional arguments as a usage error (exit 2). On the root
// it is also what an unknown subcommand runs into.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usagef("unknown command %q (try remerge --help)", args[0])
	}
	return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
}
