package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-skynet/remerge/internal/release"
)

// Annotation is one GitHub Actions workflow command that annotates a run
// (https://docs.github.com/actions/reference/workflow-commands-for-github-actions):
// Level is error, warning or notice; Title is shown in bold above Message.
type Annotation struct {
	Level   string
	Title   string
	Message string
}

// Annotation levels.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// String renders the workflow command, escaped as the Actions runner
// unescapes it: % CR LF in the message; those and : , in the title.
func (a Annotation) String() string {
	s := "::" + a.Level
	if a.Title != "" {
		s += " title=" + escapeProperty(a.Title)
	}
	return s + "::" + escapeData(a.Message)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

// Annotations turns a report into workflow commands: an error per backend
// that is not ok (its verdict in the title, its problems as the message),
// a warning per ok backend with findings (a list published unsigned), a
// warning per user-facing tag that is stale, missing, otherwise not
// complete or signed by someone unexpected (its Impact lines), a warning
// per release-wide problem, and a closing notice with the verdict counts.
func Annotations(r *release.Report) []Annotation {
	var out []Annotation
	for _, b := range r.Backends {
		if b.Verdict == release.VerdictOK || b.Verdict == release.VerdictNotBuilt {
			continue
		}
		msg := strings.Join(b.Problems, "\n")
		if msg == "" {
			msg = string(b.Verdict)
		}
		out = append(out, Annotation{Level: LevelError, Title: b.Suffix + " (" + string(b.Verdict) + ")", Message: msg})
	}
	for _, b := range r.Backends {
		// An ok backend's findings (a list published unsigned) warn.
		if b.Verdict == release.VerdictOK && len(b.Problems) > 0 {
			out = append(out, Annotation{Level: LevelWarning, Title: b.Suffix + " (ok)", Message: strings.Join(b.Problems, "\n")})
		}
		for _, p := range b.Impact {
			out = append(out, Annotation{Level: LevelWarning, Title: b.Suffix + " user-facing tag", Message: p})
		}
	}
	for _, p := range r.Problems {
		out = append(out, Annotation{Level: LevelWarning, Title: "remerge " + r.Release.Ref, Message: p})
	}
	out = append(out, Annotation{Level: LevelNotice, Title: "remerge " + releaseLine(r.Release), Message: summaryLine(r)})
	return out
}

// WriteAnnotations writes one workflow command per line.
func WriteAnnotations(w io.Writer, as []Annotation) error {
	tw := &textWriter{w: w}
	for _, a := range as {
		tw.line(a.String())
	}
	return tw.err
}

// WriteGitHub writes the report as GitHub workflow commands (see
// Annotations), for `--format github`. The step summary (markdown) and the
// step outputs (WriteGitHubOutputs) are separate files the caller opens.
func WriteGitHub(w io.Writer, r *release.Report) error {
	if err := WriteAnnotations(w, Annotations(r)); err != nil {
		return fmt.Errorf("writing github annotations: %w", err)
	}
	return nil
}

// WriteGitHubOutputs writes the verdict counts as step outputs, in the
// name=value lines of the file named by $GITHUB_OUTPUT: ok, repairable,
// unrepairable, conflict, unknown (the JSON summary's names), and broken,
// true when any backend is not ok.
func WriteGitHubOutputs(w io.Writer, r *release.Report) error {
	s := r.Summary
	_, err := fmt.Fprintf(w, "ok=%d\nrepairable=%d\nunrepairable=%d\nconflict=%d\nunknown=%d\nnot_built=%d\nbroken=%t\n",
		s.OK, s.Repairable, s.Unrepairable, s.Conflict, s.Unknown, s.NotBuilt, s.Broken())
	if err != nil {
		return fmt.Errorf("writing github outputs: %w", err)
	}
	return nil
}
