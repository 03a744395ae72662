package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/inspect"
)

// export starts writing the report on screen to markdown and JSON files,
// and the cosign commands of this session's re-merges to a shell file:
// the fallback for a terminal that ignores c's clipboard copy.
func (m Model) export() (tea.Model, tea.Cmd) {
	if m.report == nil {
		m.setStatus("nothing to export yet", true)
		return m, nil
	}
	if m.inspecting {
		m.setStatus("exporting a report that is still being probed…", false)
	} else {
		m.setStatus("exporting…", false)
	}
	return m, m.exportCmd(cloneReport(m.report), m.signCommands(), m.now())
}

// signCommands are the cosign commands of every re-merge of the session,
// by backend in report order, targets in order within each.
func (m Model) signCommands() []string {
	var out []string
	if m.report == nil {
		return nil
	}
	for _, b := range m.report.Backends {
		out = append(out, m.outcomes[b.Suffix].Commands...)
	}
	return out
}

// exportCmd writes r as remerge-<ref>-<time>.md and .json in the export
// directory, and the sign commands (if any) as remerge-<ref>-<time>-sign.sh,
// and answers with ExportDoneMsg naming the directory as an absolute path.
func (m Model) exportCmd(r *inspect.Report, sign []string, at time.Time) tea.Cmd {
	dir, md := m.exportDir, m.markdown
	return func() tea.Msg {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		base := filepath.Join(dir, exportBase(r.Release.Ref, at))
		var mdBuf bytes.Buffer
		if err := md(&mdBuf, r); err != nil {
			return ExportDoneMsg{Dir: dir, Err: fmt.Errorf("rendering markdown: %w", err)}
		}
		js, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return ExportDoneMsg{Dir: dir, Err: fmt.Errorf("encoding json: %w", err)}
		}
		files := []struct {
			name string
			data []byte
			mode os.FileMode
		}{{base + ".md", mdBuf.Bytes(), 0o644}, {base + ".json", append(js, '\n'), 0o644}}
		if len(sign) > 0 {
			script := "#!/bin/sh\n# Sign the manifest lists remerge published (what CI's merge job runs).\nset -e\n" +
				strings.Join(sign, "\n") + "\n"
			files = append(files, struct {
				name string
				data []byte
				mode os.FileMode
			}{base + "-sign.sh", []byte(script), 0o755})
		}
		var paths []string
		for _, f := range files {
			if err := os.WriteFile(f.name, f.data, f.mode); err != nil {
				return ExportDoneMsg{Dir: dir, Paths: paths, Err: fmt.Errorf("writing %s: %w", f.name, err)}
			}
			paths = append(paths, f.name)
		}
		return ExportDoneMsg{Dir: dir, Paths: paths}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// exportBase is the file name without extension; a branch ref such as
// feature/x must not become a directory.
func exportBase(ref string, at time.Time) string {
	if ref == "" {
		ref = "release"
	}
	return "remerge-" + unsafeName.ReplaceAllString(ref, "_") + "-" + at.Format("20060102-150405")
}

// writeMarkdown is the built-in markdown form of a report: a summary, a
// table of backends, then the findings of every backend that is not ok.
func writeMarkdown(w io.Writer, r *inspect.Report) error {
	var b strings.Builder
	rel := r.Release
	fmt.Fprintf(&b, "# remerge report: %s\n\n", rel.Ref)
	if rel.Run != "" {
		fmt.Fprintf(&b, "- run: %s\n", rel.Run)
	}
	if rel.SHA != "" {
		fmt.Fprintf(&b, "- sha: %s\n", rel.SHA)
	}
	sum, pending := summarize(r)
	fmt.Fprintf(&b, "- ok %d, repairable %d, unrepairable %d, conflict %d, unknown %d",
		sum.OK, sum.Repairable, sum.Unrepairable, sum.Conflict, sum.Unknown)
	if pending > 0 {
		fmt.Fprintf(&b, ", pending %d", pending)
	}
	b.WriteString("\n")
	for _, rp := range r.Repos {
		fmt.Fprintf(&b, "- %s (%s): `%s`\n", shortRepo(rp), rp.Role, rp.Repo)
	}
	tg := targets(r)
	b.WriteString("\n| backend | kind | verdict | legs |")
	for _, t := range tg {
		b.WriteString(" " + t.Name + " |")
	}
	b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", len(tg)) + "\n")
	for _, be := range r.Backends {
		vg := verdictGlyph(be.Verdict)
		fmt.Fprintf(&b, "| `%s` | %s | %s %s | %s |", be.Suffix, be.Kind, vg.Sym, vg.Word, mdLegs(r, be))
		for _, t := range tg {
			state := inspect.TagPending
			if ts := be.Targets[t.Name]; ts != nil && ts.State != "" {
				state = ts.State
			}
			mark := ""
			if userFacingBroken(be, t.Name) {
				mark = " " + staleMark
			}
			fmt.Fprintf(&b, " %s%s |", state, mark)
		}
		b.WriteString("\n")
	}
	for _, be := range r.Backends {
		if be.Verdict == inspect.VerdictOK || len(be.Problems)+len(be.Impact) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## `%s`: %s\n\n", be.Suffix, be.Verdict)
		for _, l := range be.Legs {
			fmt.Fprintf(&b, "- %s `%s` (from %s)\n", l.PlatformTag, orDash(l.Digest), orDash(string(l.DigestFrom)))
		}
		for _, p := range be.Problems {
			fmt.Fprintf(&b, "- problem: %s\n", p)
		}
		for _, p := range be.Impact {
			fmt.Fprintf(&b, "- impact: %s\n", p)
		}
	}
	if len(r.Problems) > 0 {
		b.WriteString("\n## Release problems\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdLegs is "amd64 ●○● · arm64 ●●●" with the repos in column order.
func mdLegs(r *inspect.Report, be *inspect.BackendReport) string {
	var legs []string
	for _, l := range be.Legs {
		var cells strings.Builder
		for _, rp := range r.Repos {
			state := inspect.CellPending
			if c, ok := l.Cells[rp.Repo]; ok {
				state = c.State
			}
			cells.WriteString(cellGlyph(state).Sym)
		}
		legs = append(legs, l.PlatformTag+" "+cells.String())
	}
	return strings.Join(legs, " · ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
