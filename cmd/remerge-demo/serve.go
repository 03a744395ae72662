package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-skynet/remerge/internal/demo"
)

// printServeHelp says where the demo's registries and files are, and gives
// remerge commands to paste into another terminal: with the path of the
// remerge binary, and with every re-merge logging to the demo's temp dir
// rather than the user's real audit log.
func printServeHelp(w io.Writer, d *demo.Demo, remerge string) {
	s := d.Seeded
	audit := d.AuditPath()
	fmt.Fprintf(w, "demo registries: quay.io stand-in %s, docker.io stand-in %s\n", d.Quay.Host, d.Hub.Host)
	fmt.Fprintf(w, "config %s, digests folder %s\n", s.ConfigPath, s.DigestsDir)
	fmt.Fprintf(w, "re-merges log to %s (removed with the rest of %s on exit)\n\n", audit, d.Dir)
	args := fmt.Sprintf("--config %s --release %s --sha %s --digests %s",
		shellQuote(s.ConfigPath), s.Release.Ref, s.Release.SHA, shellQuote(s.DigestsDir))
	fmt.Fprintf(w, "try, in another terminal:\n")
	fmt.Fprintf(w, "  %s inspect %s\n", remerge, args)
	fmt.Fprintf(w, "  %s repair %s --audit %s --dry-run -- -cpu-kokoro\n", remerge, args, shellQuote(audit))
	// The TUI has no --audit flag; its default log is under
	// $XDG_STATE_HOME, which this points at the demo dir.
	fmt.Fprintf(w, "  XDG_STATE_HOME=%s %s %s\n", shellQuote(d.Dir), remerge, args)
	fmt.Fprintf(w, "\nctrl+c stops the registries.\n")
}

// remergeCommand is how to run the remerge binary from the user's shell:
// the one built next to this binary (bin/remerge after `make run`), named
// as the shell would find it, else whatever PATH finds as "remerge".
func remergeCommand() string {
	onPath, _ := exec.LookPath("remerge")
	exe, err := os.Executable()
	if err != nil {
		return "remerge"
	}
	sibling := filepath.Join(filepath.Dir(exe), "remerge")
	if _, err := os.Stat(sibling); err != nil {
		return "remerge"
	}
	wd, _ := os.Getwd()
	return commandFor(sibling, wd, onPath)
}

// commandFor is how to run the binary at exe, given the working directory
// and what PATH resolves "remerge" to ("" for nothing).
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
