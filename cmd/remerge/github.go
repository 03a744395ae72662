package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// formatGitHub is the --format of inspect and repair that speaks to GitHub
// Actions: workflow commands (annotations) on stdout, the markdown report
// appended to $GITHUB_STEP_SUMMARY, verdict counts appended to
// $GITHUB_OUTPUT.
const formatGitHub = "github"

// githubFiles are the files a GitHub Actions step is handed through its
// environment. An unset variable means "not in Actions": nothing is written
// there.
type githubFiles struct {
	summary string // $GITHUB_STEP_SUMMARY
	output  string // $GITHUB_OUTPUT
}

// githubFilesFromEnv reads the variables and checks, before any registry
// is contacted, that each named file can be appended to: a bad path is an
// input error (exit 2) naming the variable.
func githubFilesFromEnv() (githubFiles, error) {
	g := githubFiles{summary: os.Getenv("GITHUB_STEP_SUMMARY"), output: os.Getenv("GITHUB_OUTPUT")}
	for _, v := range []struct{ name, path string }{{"GITHUB_STEP_SUMMARY", g.summary}, {"GITHUB_OUTPUT", g.output}} {
		if v.path == "" {
			continue
		}
		f, err := os.OpenFile(v.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return githubFiles{}, usagef("%s: %w", v.name, err)
		}
		if err := f.Close(); err != nil {
			return githubFiles{}, usagef("%s: %w", v.name, err)
		}
	}
	return g, nil
}

// appendTo appends what write writes to path, when path is set.
func appendTo(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	return nil
}

// publishReport writes an inspection's report to the step summary
// (markdown) and its verdict counts to the step outputs.
func (g githubFiles) publishReport(rep *release.Report) error {
	return errors.Join(
		appendTo(g.summary, func(w io.Writer) error { return report.WriteMarkdown(w, rep) }),
		appendTo(g.output, func(w io.Writer) error { return report.WriteGitHubOutputs(w, rep) }),
	)
}

// gateAnnotations turns failed --fail-on findings into error annotations.
func gateAnnotations(findings []string) []report.Annotation {
	out := make([]report.Annotation, 0, len(findings))
	for _, f := range findings {
		out = append(out, report.Annotation{Level: report.LevelError, Title: "release gate (--fail-on)", Message: f})
	}
	return out
}

// parseFailOn reads --fail-on; an unknown word is an input error naming it.
func parseFailOn(spec string, set bool) (release.Gate, error) {
	if !set {
		return release.Gate{}, nil
	}
	g, err := release.ParseGate(spec)
	if err != nil {
		return release.Gate{}, usagef("--fail-on %w", err)
	}
	return g, nil
}
