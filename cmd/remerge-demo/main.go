// Command remerge-demo starts two real registries on loopback (standing
// for quay.io, with the ci-cache anchor repo, and docker.io), seeds a
// release shaped like LocalAI v4.2.2 into them and opens remerge's TUI on
// it: what `make run` does on a fresh machine. It is a binary of its own,
// as crane's test registry is, so that the remerge binary links no
// registry server (cmd/remerge's depcheck test keeps it so).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/demo"
	"github.com/go-skynet/remerge/internal/registry"
)

// Exit codes, as remerge's (DESIGN.md section 9).
const (
	exitOK     = 0
	exitBroken = 1 // without a terminal: the demo release is broken, as inspect says
	exitUsage  = 2
)

// errBroken: the table printed is the answer, and something is broken.
var errBroken = app.ErrBroken

// usageError is a flag mistake: exit 2.
type usageError struct{ error }

func main() {
	// SIGHUP too: a closed terminal must still stop the registries and
	// remove the temp dir.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// flags are the demo's own flags.
type flags struct {
	serve       bool
	concurrency int
	timeout     time.Duration
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, stdout io.Writer, stderr io.Writer) int {
	f := flags{concurrency: registry.DefaultConcurrency, timeout: registry.DefaultTimeout}
	cmd := &cobra.Command{
		Use:   "remerge-demo",
		Short: "Start loopback registries holding a broken release and open remerge's TUI on it",
		Long: `remerge-demo starts two real registries on 127.0.0.1 (standing for quay.io,
with the ci-cache anchor repo, and docker.io), seeds a release shaped like
LocalAI v4.2.2 (reaped manifests, a lost leg, a conflict, stale latest tags)
and opens the TUI on it, so every state can be seen and re-merged offline.
The registries keep their storage in memory; config, digests folder and
audit log live in a temp dir removed on exit.

Without a terminal it prints the inspect table of the demo release, with
inspect's exit codes: 0 every backend ok, 1 something broken (as the demo
always is), 2 usage error.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("takes no arguments, got %q", args[0])}
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.concurrency < 1 || f.timeout <= 0 {
				return usageError{fmt.Errorf("--concurrency %d --timeout %s: want 1 or more, and a positive duration", f.concurrency, f.timeout)}
			}
			return runDemo(cmd.Context(), f, stdout, stderr)
		},
	}
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	fl := cmd.Flags()
	fl.BoolVar(&f.serve, "serve", false, "keep the registries running and print remerge commands to try against them")
	fl.IntVar(&f.concurrency, "concurrency", f.concurrency, "most requests in flight per registry")
	fl.DurationVar(&f.timeout, "timeout", f.timeout, "per-request timeout (headers, and silence while reading a body)")
	err := cmd.ExecuteContext(ctx)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errBroken):
		return exitBroken
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "remerge-demo: %s\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "remerge-demo: %s\n", err)
		return exitBroken
	}
}

// runDemo seeds the demo and opens the TUI on it; with --serve it keeps the
// registries up and prints how to point remerge at them instead; without
// a terminal it prints the inspect table.
func runDemo(ctx context.Context, f flags, stdout io.Writer, stderr io.Writer) error {
	d, err := start(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	c := registry.New(registry.Options{
		Concurrency: f.concurrency,
		Timeout:     f.timeout,
		Insecure:    d.Seeded.Config.Insecure,
		UserAgent:   "remerge-demo",
	})
	defer c.Close()
	svc, err := d.Service(c)
	if err != nil {
		return err
	}
	switch {
	case f.serve:
		printServeHelp(stdout, d, remergeCommand())
		<-ctx.Done()
		return nil
	case !isTerminal(stdout):
		// The same answer, and exit code, as `remerge inspect` on this release.
		rep, err := svc.Inspect(ctx, "", nil)
		if err != nil {
			return err
		}
		return app.PrintTable(stdout, rep)
	default:
		return app.OpenTUI(ctx, svc)
	}
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// start seeds the demo, saying so on stderr: on a terminal, one line that
// counts the seconds and then says how long it took.
func start(ctx context.Context, stderr io.Writer) (*demo.Demo, error) {
	// Short enough that "… 12.3s" still fits 80 columns: a wrapped line
	// would not be redrawn in place.
	const what = "remerge-demo: seeding a broken v4.2.2 into 2 registries on 127.0.0.1"
	if !isTerminal(stderr) {
		fmt.Fprintln(stderr, what+"…")
		return demo.Start(ctx)
	}
	begin := time.Now()
	done := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			fmt.Fprintf(stderr, "\r%s… %.1fs", what, time.Since(begin).Seconds())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	d, err := demo.Start(ctx)
	close(done)
	<-ticked
	if err != nil {
		fmt.Fprintln(stderr)
		return nil, err
	}
	fmt.Fprintf(stderr, "\rremerge-demo: seeded a broken v4.2.2 into 2 registries on 127.0.0.1 in %.1fs\n", time.Since(begin).Seconds())
	return d, nil
}
