package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/inspect"
)

func newRunsCmd(o *options, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "runs",
		Short: "List the CI runs whose keepalive anchors are in the anchor repo, newest first",
		Long: `runs lists the anchor repo's tags and groups the keepalive tags
(keepalive-<run><suffix>-<platform-tag>) by run id, newest first, with the
number of legs each run anchored. Pass one of them to --run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return err
			}
			if cfg.Anchor == "" {
				return usagef("config: no anchor repo configured")
			}
			c := o.client(cfg)
			defer c.Close()
			runs, err := inspect.Runs(cmd.Context(), c, cfg)
			var bad *name.ErrBadName
			switch {
			case errors.As(err, &bad):
				return asUsage(err)
			case err != nil:
				return err
			}
			if len(runs) == 0 {
				_, err := fmt.Fprintf(stdout, "no keepalive anchors in %s\n", cfg.Anchor)
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tANCHORS")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%d\n", r.ID, r.Anchors)
			}
			return tw.Flush()
		},
	}
}
