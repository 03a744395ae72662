// Package scenariotest seeds a scenario into two test registries for one
// test. It lives apart from scenario because it imports testing and the
// test harness (internal/testkit/testreg), which the demo in the shipped binary
// must not link.
package scenariotest

import (
	"context"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/imagetools"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// Fixture is a release seeded into two fresh registries for one test, with
// its matrix and digests folder already read.
type Fixture struct {
	*scenario.Seeded
	Quay, Hub *testreg.Registry
	Matrix    *release.Matrix
	Digests   *inspect.DigestsDir
}

// BuildxSteps runs the pipeline's steps with the real, pinned buildx
// (tools.Buildx): what tests seed is what CI writes.
func BuildxSteps(tb testing.TB) scenario.Steps {
	tb.Helper()
	return BuildxStepsAt(tools.Buildx.Require(tb), tb.TempDir())
}

// BuildxStepsAt runs the steps with the buildx binary at bin, reading
// credentials from the Docker config folder dockerConfig.
func BuildxStepsAt(bin, dockerConfig string) scenario.Steps {
	return scenario.Steps{
		Current: imagetools.Buildx{Path: bin, DockerConfig: dockerConfig},
		Legacy:  imagetools.Buildx{Path: bin, DockerConfig: dockerConfig, Args: []string{"--prefer-index=false"}},
	}
}

// Start seeds backends as scenario.DefaultRelease into two registries that
// stop in the test's cleanup, running the pipeline with the real buildx;
// it fails the test at once when anything does.
func Start(tb testing.TB, backends []scenario.Backend, opt testreg.ImageOptions) *Fixture {
	tb.Helper()
	return StartRelease(tb, scenario.DefaultRelease(), backends, opt)
}

// StartRelease is Start for another release (a branch build, say).
func StartRelease(tb testing.TB, rel scenario.Release, backends []scenario.Backend, opt testreg.ImageOptions) *Fixture {
	tb.Helper()
	f := &Fixture{Quay: testreg.Start(tb), Hub: testreg.Start(tb)}
	var err error
	if f.Seeded, err = scenario.Seed(context.Background(), tb.TempDir(), f.Quay.Registry, f.Hub.Registry, rel, backends, opt, BuildxSteps(tb)); err != nil {
		tb.Fatal(err)
	}
	if f.Matrix, err = release.LoadMatrix(f.MatrixPath); err != nil {
		tb.Fatal(err)
	}
	if f.Digests, err = inspect.ReadDigestsDir(f.DigestsDir); err != nil {
		tb.Fatal(err)
	}
	return f
}
