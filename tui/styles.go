package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/go-skynet/remerge/internal/glyphs"
	"github.com/go-skynet/remerge/internal/release"
)

// palette is the handful of colours every style is built from. Components
// never name a colour; they ask Styles for a semantic style.
type palette struct {
	fg, muted, subtle  color.Color
	good, warn, bad    color.Color
	info, accent, pend color.Color
	selBg, selFg       color.Color
}

// Styles are the semantic styles of the TUI. One value lives in the Model; it
// is rebuilt when the terminal reports its background colour.
type Styles struct {
	Title, Muted, Bold lipgloss.Style
	ColumnHeader       lipgloss.Style
	Selected           lipgloss.Style
	Status, StatusErr  lipgloss.Style
	Section            lipgloss.Style
	PaneBorder         lipgloss.Style
	Dialog             lipgloss.Style
	DialogTitle        lipgloss.Style

	Good, Warn, Bad, Info, Pending lipgloss.Style

	Help   help.Styles
	Filter textinput.Styles
}

// NewStyles builds the styles for a dark or light terminal background.
func NewStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	c := lipgloss.Color
	return buildStyles(palette{
		fg:     ld(c("#1F1F1F"), c("#E4E4E4")),
		muted:  ld(c("#6B6B6B"), c("#8A8A8A")),
		subtle: ld(c("#B8B8B8"), c("#4A4A4A")),
		good:   ld(c("#1B7F3B"), c("#5FD787")),
		warn:   ld(c("#9A6700"), c("#F2C94C")),
		bad:    ld(c("#C62828"), c("#FF6B6B")),
		info:   ld(c("#0B5CAD"), c("#6CB6FF")),
		accent: ld(c("#7B3FB5"), c("#C792EA")),
		pend:   ld(c("#8A8A8A"), c("#6B6B6B")),
		selBg:  ld(c("#D6E4FF"), c("#2B3A55")),
		selFg:  ld(c("#000000"), c("#FFFFFF")),
	}, true)
}

// PlainStyles are the styles without any colour, for NO_COLOR and for
// golden files. Glyphs and words carry every distinction; the selected row is
// shown in reverse video, which is not colour.
func PlainStyles() Styles {
	n := lipgloss.NoColor{}
	return buildStyles(palette{n, n, n, n, n, n, n, n, n, n, n}, false)
}

func buildStyles(p palette, colour bool) Styles {
	fg := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	s := Styles{
		Title:        fg(p.accent).Bold(true),
		Muted:        fg(p.muted),
		Bold:         lipgloss.NewStyle().Bold(true),
		ColumnHeader: fg(p.muted).Bold(true),
		Status:       fg(p.muted),
		StatusErr:    fg(p.bad).Bold(true),
		Section:      fg(p.info).Bold(true),
		PaneBorder:   lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.subtle).Padding(0, 1),
		Dialog:       lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(p.accent).Padding(0, 1),
		DialogTitle:  fg(p.accent).Bold(true),
		Good:         fg(p.good),
		Warn:         fg(p.warn),
		Bad:          fg(p.bad).Bold(true),
		Info:         fg(p.info),
		Pending:      fg(p.pend),
	}
	if colour {
		s.Selected = lipgloss.NewStyle().Background(p.selBg).Foreground(p.selFg).Bold(true)
	} else {
		s.Selected = lipgloss.NewStyle().Reverse(true)
	}
	s.Help = help.Styles{
		Ellipsis: fg(p.subtle), ShortKey: fg(p.info), ShortDesc: fg(p.muted), ShortSeparator: fg(p.subtle),
		FullKey: fg(p.info), FullDesc: fg(p.muted), FullSeparator: fg(p.subtle),
	}
	ti := textinput.DefaultStyles(true)
	ti.Focused.Prompt, ti.Blurred.Prompt = fg(p.accent), fg(p.muted)
	ti.Focused.Text, ti.Blurred.Text = fg(p.fg), fg(p.muted)
	ti.Focused.Placeholder, ti.Blurred.Placeholder = fg(p.subtle), fg(p.subtle)
	ti.Cursor.Color = p.accent
	ti.Cursor.Blink = false // no ticking command: nothing runs while idle
	s.Filter = ti
	return s
}

// The glyphs are internal/glyphs', shared with the CLI's table and
// markdown so a symbol means one thing on every face.
var (
	verdictGlyph = glyphs.Verdict
	cellGlyph    = glyphs.Cell
	tagGlyph     = glyphs.Tag
)

// staleMark flags a target whose user-facing tag (latest or branch) is not
// complete (stale, missing, dangling, partial, unreadable): the users' side
// of the failure. See userFacingBroken.
var staleMark = glyphs.UserFacing.Sym

// verdict is the style of a verdict.
func (s Styles) verdict(v release.Verdict) lipgloss.Style {
	switch v {
	case release.VerdictOK:
		return s.Good
	case release.VerdictRepairable:
		return s.Warn
	case release.VerdictUnrepairable, release.VerdictConflict:
		return s.Bad
	case release.VerdictUnknown:
		return s.Info
	default:
		return s.Pending
	}
}

// cell is the style of a cell state.
func (s Styles) cell(c release.CellState) lipgloss.Style {
	switch c {
	case release.CellPresent:
		return s.Good
	case release.CellMissing:
		return s.Warn
	case release.CellDenied, release.CellError:
		return s.Bad
	default:
		return s.Pending
	}
}

// tag is the style of a published state.
func (s Styles) tag(t release.TagState) lipgloss.Style {
	switch t {
	case release.TagComplete:
		return s.Good
	case release.TagPartial, release.TagStale, release.TagMissing:
		return s.Warn
	case release.TagDangling, release.TagDenied, release.TagError:
		return s.Bad
	default:
		return s.Pending
	}
}
