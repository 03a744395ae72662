package main

import (
	"fmt"
	"io"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
)

// finish closes a repair run with what is left broken (summarize) and, with
// --format github, says it again where a CI reader looks: an error
// annotation per backend and target left broken (or a notice that nothing
// is), and a section appended to $GITHUB_STEP_SUMMARY. Its error is the
// run's exit: errBroken when anything is left broken.
func (f repairFlags) finish(w io.Writer, rel release.Release, s *repairSummary) error {
	left := s.left
	result := s.close(w)
	if f.format != formatGitHub {
		return result
	}
	gh, err := githubFilesFromEnv()
	if err != nil {
		return err
	}
	title := "remerge repair " + rel.Ref
	var as []report.Annotation
	for _, l := range left {
		as = append(as, report.Annotation{Level: report.LevelError, Title: title, Message: "left broken: " + l})
	}
	if len(left) == 0 {
		as = append(as, report.Annotation{Level: report.LevelNotice, Title: title, Message: "every selected backend is ok"})
	}
	if err := report.WriteAnnotations(w, as); err != nil {
		return err
	}
	if err := appendTo(gh.summary, func(w io.Writer) error { return writeRepairStepSummary(w, rel, left) }); err != nil {
		return err
	}
	return result
}

// writeRepairStepSummary is the step-summary section of a repair run.
func writeRepairStepSummary(w io.Writer, rel release.Release, left []string) error {
	text := fmt.Sprintf("### remerge repair: %s\n\n", rel.Ref)
	switch {
	case len(left) > 0:
		text += "Left broken:\n\n"
		for _, l := range left {
			text += "- " + report.MarkdownText(l) + "\n"
		}
	default:
		text += "Every selected backend is ok.\n"
	}
	_, err := io.WriteString(w, text+"\n")
	return err
}
