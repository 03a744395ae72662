// Package bench measures remerge on a release of LocalAI's size: a full
// inspect through two latency-injecting proxies (wall time, requests per
// kind against the request budget and the concurrency bound, peak resident
// memory of the real binary), the same probing done by a loop of crane
// invocations, and a re-merge of one same-registry backend (requests and
// bytes moved).
//
// Everything lives in the package's tests so the measurement code is never
// linked into remerge. `make bench` runs TestResults with -results, which
// writes bench/results.md; plain `go test ./...` skips it at once.
// BenchmarkInspect reports the same figures as benchmark metrics. See
// README.md.
package bench
