package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/internal/recipeinit"
	"github.com/go-skynet/remerge/internal/release"
)

// newInitCmd drafts the config of a project built with docker's
// multi-runner recipe from its workflow, so that its maintainers need not
// learn the config keys first.
func newInitCmd(stdout, stderr io.Writer) *cobra.Command {
	var workflow, output string
	cmd := &cobra.Command{
		Use:   "init --workflow .github/workflows/FILE.yml",
		Short: "Write the config of a multi-runner (docker recipe) release by reading its workflow",
		Long: `init reads a workflow written by docker's "Distribute build across multiple
runners" recipe: the build matrix's platforms, the image names of
docker/metadata-action's images input and its tags rules. It writes the
config (-o, default ./remerge.yaml; never over an existing file; - for
stdout) and says on stderr what it could not read.`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if workflow == "" {
				return usagef("--workflow is required")
			}
			b, err := os.ReadFile(workflow)
			if err != nil {
				return usagef("workflow %s: %w", workflow, err)
			}
			d, err := recipeinit.Read(workflow, b)
			if err != nil {
				return asUsage(err)
			}
			for _, n := range d.Notes {
				fmt.Fprintf(stderr, "remerge init: %s\n", n)
			}
			text := d.YAML()
			if _, err := release.ParseConfig(workflow, []byte(text)); err != nil {
				return usagef("the config read from %s is not usable (%v); write it by hand:\n%s", workflow, err, text)
			}
			if output == "-" {
				_, err := io.WriteString(stdout, text)
				return err
			}
			if _, err := os.Stat(output); err == nil {
				return usagef("-o %s: exists; remove it or write to another file", output)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return usagef("-o %s: %w", output, err)
			}
			if err := os.WriteFile(output, []byte(text), 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "wrote %s\n", output)
			return err
		},
	}
	cmd.Flags().StringVar(&workflow, "workflow", "", "the recipe's workflow file")
	cmd.Flags().StringVarP(&output, "output", "o", defaultConfigFile, "config file to write (- for stdout)")
	return cmd
}
