package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
)

// TestAnnotationEscaping checks the escapes against the table of the
// Actions toolkit (toolkit/packages/core/src/command.ts), written out by
// hand: % CR LF in the message; % CR LF : , in a property.
func TestAnnotationEscaping(t *testing.T) {
	tests := []struct {
		name string
		a    Annotation
		want string
	}{
		{"plain", Annotation{Level: LevelError, Title: "-cpu-kokoro (repairable)", Message: "arm64 manifest reaped"},
			"::error title=-cpu-kokoro (repairable)::arm64 manifest reaped"},
		{"message keeps colon and comma", Annotation{Level: LevelWarning, Title: "t", Message: "latest-x in quay: stale, old"},
			"::warning title=t::latest-x in quay: stale, old"},
		{"message newlines and percent", Annotation{Level: LevelError, Message: "100% lost\r\nrebuild"},
			"::error::100%25 lost%0D%0Arebuild"},
		{"title escapes colon comma percent newline", Annotation{Level: LevelNotice, Title: "a:b,c%d\ne", Message: "m"},
			"::notice title=a%3Ab%2Cc%25d%0Ae::m"},
		{"a forged command stays data", Annotation{Level: LevelNotice, Message: "x\n::add-mask::y"},
			"::notice::x%0A::add-mask::y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestGitHubAnnotationsCover checks the annotations of the hand-built
// report: one error per backend that is not ok, one warning for an ok one
// with findings and nothing for the others, one warning per impact line, one per release-wide problem, a closing notice,
// and every line a single workflow command.
func TestGitHubAnnotationsCover(t *testing.T) {
	r := fmtReport()
	var buf bytes.Buffer
	if err := WriteGitHub(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	count := map[string]int{}
	for _, l := range lines {
		lvl, _, ok := strings.Cut(strings.TrimPrefix(l, "::"), " ")
		if !strings.HasPrefix(l, "::") || !ok {
			t.Errorf("not a workflow command with a title: %q", l)
		}
		count[lvl]++
	}
	notOK, impact, okFindings := 0, 0, 0
	for _, b := range r.Backends {
		if b.Verdict != release.VerdictOK {
			notOK++
			if !strings.Contains(buf.String(), "::error title="+escapeProperty(b.Suffix+" ("+string(b.Verdict)+")")+"::") {
				t.Errorf("no error annotation for %s", b.Suffix)
			}
		} else if len(b.Problems) > 0 {
			okFindings++
			if !strings.Contains(buf.String(), "::warning title="+escapeProperty(b.Suffix+" (ok)")+"::") {
				t.Errorf("no warning for the findings of ok backend %s", b.Suffix)
			}
		} else if strings.Contains(buf.String(), "title="+b.Suffix) {
			t.Errorf("ok backend %s annotated", b.Suffix)
		}
		impact += len(b.Impact)
	}
	if warn := impact + okFindings + len(r.Problems); count["error"] != notOK || count["warning"] != warn || count["notice"] != 1 {
		t.Errorf("counts %v, want %d errors, %d warnings, 1 notice:\n%s", count, notOK, warn, buf.String())
	}
}

func TestGitHubOutputs(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteGitHubOutputs(&buf, fmtReport()); err != nil {
		t.Fatal(err)
	}
	want := "ok=2\nrepairable=1\nunrepairable=1\nconflict=1\nunknown=1\nnot_built=0\nbroken=true\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := WriteGitHubOutputs(&buf, &release.Report{Summary: release.Summary{OK: 3}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "broken=false\n") {
		t.Errorf("healthy report: %q", buf.String())
	}
}
