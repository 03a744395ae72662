package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-skynet/remerge/internal/release"
)

// stdin is where repair reads its confirmation; a variable for tests.
var stdin io.Reader = os.Stdin

// repairFlags are the flags of `remerge repair`, validated by check before
// any registry is contacted.
type repairFlags struct {
	all      bool
	targets  []string
	dryRun   bool
	yes      bool
	force    bool
	create   []string // --create-target
	audit    string
	format   string // text or github
	suffixes []string
	signFlags
}

func newRepairCmd(o *options, stdout, stderr io.Writer) *cobra.Command {
	var f repairFlags
	cmd := &cobra.Command{
		Use:   "repair --release REF [SUFFIX...|--all]",
		Short: "Re-merge the manifest list of broken backends into their targets",
		Long: `repair re-merges each named backend (or, with --all, every repairable one)
into every target (or only --target NAME): it copies each child manifest into
the target from wherever it still lives, writes the list buildx would have
written, and points the release's tags at it. It never deletes, never moves a
tag that points to a complete list of other digests without --force, and
asks for confirmation unless --yes. --dry-run prints the plan and writes
nothing. A target whose repo does not exist (NAME_UNKNOWN: a mistyped name?)
gets nothing written into it unless named with --create-target NAME.

A tag-suffix may be written without its leading dash (cpu-kokoro), or after
"--" (repair -- -cpu-kokoro).

Before anything else it reconciles the audit log (--audit): a re-merge left
without an outcome by a killed run gets a "reconciled" line saying which of
its tags moved, read back from the registry.

Exit codes: 0 every backend ok afterwards (with --all the whole release,
else the named backends); 1 something still broken, left alone (the closing
summary says why), a registry failure, or nothing could be checked; 2 usage
or input error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.suffixes = args
			l, err := o.load()
			if err != nil {
				return err
			}
			if err := f.check(l); err != nil {
				return err
			}
			return runRepair(cmd.Context(), o, l, f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all", false, "repair every repairable backend of the release")
	fl.StringArrayVar(&f.targets, "target", nil, "repair only in this target, by name from the config (repeatable; default every target)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan and the list JSON; write nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fl.BoolVar(&f.force, "force", false, "allow moving a tag that points to a complete list of other digests")
	fl.StringArrayVar(&f.create, "create-target", nil, "create this target's repo if it does not exist (repeatable); without it a target whose repo does not exist is refused, since a push would create it")
	fl.StringVar(&f.format, "format", "text", "output format: text, or github (also annotations for what is left broken, and a step summary)")
	f.signFlags.addFlags(fl)
	fl.StringVar(&f.audit, "audit", "", "audit log file, JSON lines (default $XDG_STATE_HOME/remerge/audit.jsonl)")
	return cmd
}

// check validates the selection against the config and the matrix, and
// resolves suffixes given without their leading dash.
func (f *repairFlags) check(l *loaded) error {
	switch {
	case len(f.suffixes) == 0 && !f.all:
		return usagef("repair: name at least one tag-suffix, or --all")
	case len(f.suffixes) > 0 && f.all:
		return usagef("repair: give tag-suffixes or --all, not both")
	}
	if f.format != "text" && f.format != formatGitHub {
		return usagef("--format %q: want text or github", f.format)
	}
	if f.format == formatGitHub {
		if _, err := githubFilesFromEnv(); err != nil {
			return err
		}
	}
	if err := f.signFlags.check(); err != nil {
		return err
	}
	suffixes, err := resolveSuffixes("repair", l.matrix, f.suffixes)
	if err != nil {
		return err
	}
	f.suffixes = suffixes
	if f.all && !slices.ContainsFunc(l.matrix.Backends, func(b release.BackendSpec) bool { return b.Kind != release.KindDarwin }) {
		return usagef("repair --all: matrix %s has only darwin backends, which are never re-merged", l.matrix.Path)
	}
	for _, s := range f.suffixes {
		if b, _ := l.matrix.Backend(s); b.Kind == release.KindDarwin {
			return usagef("repair %q: a darwin backend is pushed as a plain image and never re-merged", s)
		}
	}
	for flag, names := range map[string][]string{"--target": f.targets, "--create-target": f.create} {
		for _, t := range names {
			if _, ok := l.cfg.Target(t); !ok {
				return usagef("%s %q: no such target; the config names %s", flag, t, targetList(l.cfg))
			}
		}
	}
	return nil
}

// targetList names the configured targets for an error message.
func targetList(cfg release.Config) string {
	names := make([]string, 0, len(cfg.Targets))
	for _, ct := range cfg.Targets {
		names = append(names, ct.Name)
	}
	return strings.Join(names, ", ")
}

// targetNames is the --target selection, or every configured target.
func (f repairFlags) targetNames(cfg release.Config) []string {
	if len(f.targets) > 0 {
		return f.targets
	}
	names := make([]string, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		names = append(names, t.Name)
	}
	return names
}

// confirm asks on stdout and reads y/yes from stdin. Without a terminal
// to ask, the answer must come from --yes.
func confirm(stdout io.Writer, question string) (bool, error) {
	if f, ok := stdin.(*os.File); ok && !isTerminal(f) {
		return false, usagef("repair: stdin is not a terminal; pass --yes to write, or --dry-run")
	}
	fmt.Fprintf(stdout, "%s [y/N] ", question)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("reading confirmation: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
