package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
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
			repo, err := c.Repository(cfg.Anchor)
			if err != nil {
				return asUsage(fmt.Errorf("anchor %s: %w", cfg.Anchor, err))
			}
			tags, err := c.Tags(cmd.Context(), repo)
			if err != nil {
				// The client's error already names the repo; Classify
				// keeps the cause (could not reach, denied) and drops the
				// https-then-http story around it.
				_, why := registry.Classify(err)
				return fmt.Errorf("listing tags of %s: %s", cfg.Anchor, why)
			}
			runs := inspect.RunsInTags(tags)
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
