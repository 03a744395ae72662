// Package imagetools runs the real, pinned `docker buildx imagetools
// create`: the oracle the tests hold remerge's list writer
// (internal/manifest, through internal/pipeline's Writer) to, and the
// pipeline steps tests seed releases with so that what remerge reads is
// what CI writes. It is test support: no shipped binary links it
// (cmd/remerge's depcheck test).
package imagetools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Buildx is a pipeline.Pipeline that runs a real `docker buildx` binary (the standalone build of
// github.com/docker/buildx/cmd/buildx). imagetools needs no Docker daemon;
// it speaks plain HTTP to loopback registries.
type Buildx struct {
	// Path of the buildx binary.
	Path string
	// DockerConfig is the DOCKER_CONFIG directory buildx reads credentials
	// from; an empty directory works for registries without auth.
	DockerConfig string
	// Args are extra flags for imagetools create, e.g. --prefer-index=false.
	Args []string
}

func (b Buildx) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.Path, append([]string{"imagetools", "create"}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+b.DockerConfig, "BUILDX_NO_DEFAULT_ATTESTATIONS=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("buildx imagetools create %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// DryRun prints what create would push.
func (b Buildx) DryRun(ctx context.Context, sources []string) ([]byte, error) {
	args := append(append([]string{"--dry-run"}, b.Args...), sources...)
	out, err := b.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out, []byte("\n")), nil
}

// Create pushes the merged list under tags.
func (b Buildx) Create(ctx context.Context, tags []string, sources []string) error {
	args := append([]string(nil), b.Args...)
	for _, t := range tags {
		args = append(args, "-t", t)
	}
	_, err := b.run(ctx, append(args, sources...)...)
	return err
}
