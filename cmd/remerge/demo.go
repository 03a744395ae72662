package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
	demo, err := startDemo(ctx, os.Stderr)
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
	switch {
	case d.serve:
		printServeHelp(stdout, demo, selfCommand())
		<-ctx.Done()
		return nil
	case !isTerminal(stdout):
		// The same answer, and exit code, as `inspect` on this release.
		rep, err := svc.Inspect(ctx, "", nil)
		if err != nil {
			return err
		}
		if err := report.WriteTable(stdout, rep, terminalWidth(stdout)); err != nil {
			return err
		}
		return brokenIf(rep.Summary.Broken())
	default:
		return openTUI(ctx, svc)
	}
}

// startDemo seeds the demo, saying so on stderr: on a terminal, one line
// that counts the seconds and then says how long it took.
func startDemo(ctx context.Context, stderr *os.File) (*app.Demo, error) {
	// Short enough that "… 12.3s" still fits 80 columns: a wrapped line
	// would not be redrawn in place.
	const what = "remerge demo: seeding a broken v4.2.2 into 2 registries on 127.0.0.1"
	if !isTerminal(stderr) {
		fmt.Fprintln(stderr, what+"…")
		return app.StartDemo(ctx)
	}
	start := time.Now()
	done := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			fmt.Fprintf(stderr, "\r%s… %.1fs", what, time.Since(start).Seconds())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	demo, err := app.StartDemo(ctx)
	close(done)
	<-ticked
	if err != nil {
		fmt.Fprintln(stderr)
		return nil, err
	}
	fmt.Fprintf(stderr, "\rremerge demo: seeded a broken v4.2.2 into 2 registries on 127.0.0.1 in %.1fs\n", time.Since(start).Seconds())
	return demo, nil
}

// printServeHelp says where the demo's registries and files are, and gives
// commands to paste into another terminal: with the binary's own path, and
// with every re-merge logging to the demo's temp dir rather than the
// user's real audit log.
func printServeHelp(w io.Writer, demo *app.Demo, self string) {
	s := demo.Seeded
	audit := demo.AuditPath()
	fmt.Fprintf(w, "demo registries: quay.io stand-in %s, docker.io stand-in %s\n", demo.Quay.Host, demo.Hub.Host)
	fmt.Fprintf(w, "config %s, digests folder %s\n", s.ConfigPath, s.DigestsDir)
	fmt.Fprintf(w, "re-merges log to %s (removed with the rest of %s on exit)\n\n", audit, demo.Dir)
	args := fmt.Sprintf("--config %s --release %s --sha %s --digests %s",
		shellQuote(s.ConfigPath), s.Release.Ref, s.Release.SHA, shellQuote(s.DigestsDir))
	fmt.Fprintf(w, "try, in another terminal:\n")
	fmt.Fprintf(w, "  %s inspect %s\n", self, args)
	fmt.Fprintf(w, "  %s repair %s --audit %s --dry-run -- -cpu-kokoro\n", self, args, shellQuote(audit))
	// The TUI has no --audit flag; its default log is under
	// $XDG_STATE_HOME, which this points at the demo dir.
	fmt.Fprintf(w, "  XDG_STATE_HOME=%s %s %s\n", shellQuote(demo.Dir), self, args)
	fmt.Fprintf(w, "\nctrl+c stops the registries.\n")
}

// selfCommand is how to run this binary from the user's shell: "remerge"
// when that is what PATH finds, a path relative to the working directory
// when the binary is under it (bin/remerge after `make run`), else its
// absolute path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "remerge"
	}
	wd, _ := os.Getwd()
	onPath, _ := exec.LookPath("remerge")
	return commandFor(exe, wd, onPath)
}

// commandFor is selfCommand's choice, given the binary's path, the working
// directory and what PATH resolves "remerge" to ("" for nothing).
func commandFor(exe, wd, onPath string) string {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	if onPath != "" {
		if real, err := filepath.EvalSymlinks(onPath); err == nil && real == exe {
			return "remerge"
		}
	}
	if wd != "" {
		if real, err := filepath.EvalSymlinks(wd); err == nil {
			wd = real
		}
		if rel, err := filepath.Rel(wd, exe); err == nil && filepath.IsLocal(rel) {
			if !strings.ContainsRune(rel, filepath.Separator) {
				rel = "." + string(filepath.Separator) + rel
			}
			return shellQuote(rel)
		}
	}
	return shellQuote(exe)
}

// shellQuote returns s as one shell word: unchanged when it holds only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newDemoCmd(o *options, stdout io.Writer) *cobra.Command {
	var d demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start loopback registries holding a broken release and open the TUI on it",
		Long: `demo starts two real registries on 127.0.0.1 (standing for quay.io, with the
ci-cache anchor repo, and docker.io), seeds a release shaped like LocalAI
v4.2.2 (reaped manifests, a lost leg, a conflict, stale latest tags) and opens
the TUI on it, so every state can be seen and re-merged offline. The
registries keep their storage in memory; config, digests folder and audit log
live in a temp dir removed on exit.

Without a terminal it prints the inspect table of the demo release, with
inspect's exit codes: 0 every backend ok, 1 something broken (as the demo
always is), 2 usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), o, d, stdout)
		},
	}
	cmd.Flags().BoolVar(&d.serve, "serve", false, "keep the registries running and print CLI commands to try against them")
	return cmd
}
