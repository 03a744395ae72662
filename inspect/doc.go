// Package inspect asks the registries what a release is: it resolves every
// leg's expected digest (digests folder, keepalive anchors, published lists),
// probes each digest in every repo and each tag in every target, and judges
// each backend into a release.Report, delivering facts as they arrive
// through a broker that never waits on its readers. It never writes.
//
// The words of the report (cell states, verdicts) and the configuration live
// in internal/release, which repair imports too; inspect holds the probing
// and the judging.
package inspect
