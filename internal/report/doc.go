// Package report renders a finished release.Report for people, scripts and
// CI: a plain-text table, the JSON contract of DESIGN.md section 9, markdown
// for a GitHub step summary, and GitHub workflow commands (annotations).
// They are views of one report, so they live apart from inspect, which is
// about releases, not output. Everything here is pure text (no terminal
// library); the TUI has its own renderer.
package report
