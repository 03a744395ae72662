package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/report"
)

// demoOptions are the demo's own flags.
type demoOptions struct {
	serve bool
}

// runDemo starts two registries on loopback (standing for quay.io and
// docker.io), seeds a release shaped like LocalAI v4.2.2 into them and opens
// the TUI on it: what `make run` does on a fresh machine. With --serve it
// keeps the registries up and prints how to point the CLI at them instead.
var runDemo = func(ctx context.Context, o *options, d demoOptions, stdout io.Writer) error {
	fmt.Fprintln(os.Stderr, "remerge demo: starting two registries on 127.0.0.1 and seeding a broken v4.2.2 release…")
	demo, err := app.StartDemo(ctx)
	if err != nil {
		return err
	}
	defer demo.Close()
	c := o.client(demo.Seeded.Config)
	defer c.Close()
	svc, err := demo.Service(c)
	if err != nil {
		return err
	}
	s := demo.Seeded
	switch {
	case d.serve:
		fmt.Fprintf(stdout, "demo registries: quay.io stand-in %s, docker.io stand-in %s\n", demo.Quay.Host, demo.Hub.Host)
		fmt.Fprintf(stdout, "config %s, digests folder %s\n\ntry, in another terminal:\n", s.ConfigPath, s.DigestsDir)
		args := fmt.Sprintf("--config %s --release %s --sha %s --digests %s", s.ConfigPath, s.Release.Ref, s.Release.SHA, s.DigestsDir)
		fmt.Fprintf(stdout, "  remerge inspect %s\n  remerge repair %s --dry-run -- -cpu-kokoro\n  remerge %s\n\nctrl+c stops the registries.\n", args, args, args)
		<-ctx.Done()
		return nil
	case !isTerminal(stdout):
		rep, err := svc.Inspect(ctx, "", nil)
		if err != nil {
			return err
		}
		return report.WriteTable(stdout, rep, terminalWidth(stdout))
	default:
		return openTUI(ctx, svc)
	}
}

func newDemoCmd(o *options, stdout io.Writer) *cobra.Command {
	var d demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start loopback registries holding a broken release and open the TUI on it",
		Long: `demo starts two real registries on 127.0.0.1 (standing for quay.io, with the
ci-cache anchor repo, and docker.io), seeds a release shaped like LocalAI
v4.2.2 (reaped manifests, a lost leg, a conflict, stale latest tags) and opens
the TUI on it, so every state can be seen and re-merged offline. Everything
lives in a temp dir removed on exit.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), o, d, stdout)
		},
	}
	cmd.Flags().BoolVar(&d.serve, "serve", false, "keep the registries running and print CLI commands to try against them")
	return cmd
}
