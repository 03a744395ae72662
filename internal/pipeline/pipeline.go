// Package pipeline performs the two registry steps of LocalAI's release
// pipeline that write manifest lists: anchoring a per-arch digest under a
// keepalive tag (.github/scripts/anchor-digest-in-cache.sh) and merging the
// per-arch digests into a list under the release's tags
// (.github/workflows/backend_merge.yml). Both run `docker buildx imagetools
// create` in CI.
//
// Writer does it with remerge's own list writer (internal/manifest), which
// the tests prove byte-identical to the real buildx (the oracle,
// internal/testkit/imagetools, which tests also seed releases with); the
// demo and the benchmark use Writer, so they need no buildx.
package pipeline

import "context"

// Pipeline writes what CI's imagetools steps write. References are full
// (host/repo:tag, host/repo@sha256:...).
type Pipeline interface {
	// Create is `imagetools create -t TAG... SRC...`: it copies every
	// source manifest into each tag's repository (blobs mounted or
	// copied) and puts the merged list under each tag.
	Create(ctx context.Context, tags []string, sources []string) error
	// DryRun is `imagetools create --dry-run SRC...`: the bytes Create
	// would publish, without the trailing newline buildx prints.
	DryRun(ctx context.Context, sources []string) ([]byte, error)
}
