// Package scenariotest seeds a scenario into two test registries for one
// test. It lives apart from scenario because it imports testing and the
// test harness (internal/testreg), which the demo in the shipped binary
// must not link.
package scenariotest

import (
	"context"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testreg"
)

// Fixture is a release seeded into two fresh registries for one test, with
// its matrix and digests folder already read.
type Fixture struct {
	*scenario.Seeded
	Quay, Hub *testreg.Registry
	Matrix    *inspect.Matrix
	Digests   *inspect.DigestsDir
}

// Start seeds backends as scenario.DefaultRelease into two registries that
// stop in the test's cleanup; it fails the test at once when anything does.
func Start(tb testing.TB, backends []scenario.Backend, opt testreg.ImageOptions) *Fixture {
	tb.Helper()
	f := &Fixture{Quay: testreg.Start(tb), Hub: testreg.Start(tb)}
	var err error
	if f.Seeded, err = scenario.Seed(context.Background(), tb.TempDir(), f.Quay.Registry, f.Hub.Registry, scenario.DefaultRelease(), backends, opt); err != nil {
		tb.Fatal(err)
	}
	if f.Matrix, err = inspect.LoadMatrix(f.MatrixPath); err != nil {
		tb.Fatal(err)
	}
	if f.Digests, err = inspect.ReadDigestsDir(f.DigestsDir); err != nil {
		tb.Fatal(err)
	}
	return f
}
