// Package release holds the words remerge speaks about a release, and
// nothing that speaks to a registry: the configuration (config.go, recipe.go)
// and the backend matrix (matrix.go) that say what a release should be, the
// tags it publishes (tags.go, semvertags.go) and the keepalive anchors that
// keep its digests alive (keepalive.go); and the report that says what it is
// (types.go, report.go): cell states, tag states, verdicts, signatures, the
// gate (gate.go) and the judgement of another run's image (other.go).
//
// inspect fills a Report; repair, the views and the TUI read it. Both
// inspect and repair import this package and neither imports the other, so
// each question about a release's shape has one home here.
package release
