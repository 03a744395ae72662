package main

import (
	"io"
	"regexp"

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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	o.addFlags(root.PersistentFlags())
	o.tuiSign.addFlags(root.Flags())
	root.AddCommand(
		newTUICmd(o, stdout),
		newInspectCmd(o, stdout),
		newRepairCmd(o, stdout, stderr),
		newRunsCmd(o, stdout),
		newDemoCmd(),
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

// shorthandSuffix matches pflag's complaint about a tag-suffix written
// where a flag is expected: "unknown shorthand flag: 'c' in -cpu-kokoro".
var shorthandSuffix = regexp.MustCompile(`^unknown shorthand flag: '.' in (-[A-Za-z0-9][A-Za-z0-9._-]*)$`)

// flagError turns pflag's errors into usage errors (exit 2), and a
// tag-suffix read as a cluster of short flags into the two ways to write
// it, since "unknown shorthand flag: 'c'" does not say what went wrong.
func flagError(err error) error {
	if m := shorthandSuffix.FindStringSubmatch(err.Error()); m != nil {
		arg := m[1]
		return usagef("%s reads as a flag: write the tag-suffix as %s, or after -- (-- %s)", arg, arg[1:], arg)
	}
	return asUsage(err)
}
