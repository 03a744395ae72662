// Package manifest is the one home of three questions both inspect and
// repair ask about a registry's manifests:
//
//   - what is this manifest? (Parse: an image manifest with its config and
//     layers, or a list with its entries);
//   - what would the pipeline publish over these children? (Merge: the
//     bytes `docker buildx imagetools create` writes, checked against the
//     real buildx v0.36.1 in the tests);
//   - is a published tag the release's image? (Judge: complete, partial,
//     stale, dangling, broken, or could-not-tell).
//
// It does no I/O: callers fetch bytes and probe children, and pass what
// they learned in.
package manifest
