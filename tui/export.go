package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
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
	return m, m.exportCmd(m.report.Clone(), m.remerges.signCommands(m.report), m.now())
}

// exportCmd writes r as remerge-<ref>-<time>.md and .json in the export
// directory, and the sign commands (if any) as remerge-<ref>-<time>-sign.sh,
// and answers with ExportDoneMsg naming the directory as an absolute path.
func (m Model) exportCmd(r *release.Report, sign []string, at time.Time) tea.Cmd {
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
