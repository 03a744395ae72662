package scenario

import (
	"context"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/testreg"
)

// Fixture is a release seeded into two fresh registries for one test, with
// its matrix and digests folder already read.
type Fixture struct {
	*Seeded
	Quay, Hub *testreg.Registry
	Matrix    *inspect.Matrix
	Digests   *inspect.DigestsDir
}

// Start seeds backends as DefaultRelease into two registries that stop in
// the test's cleanup; it fails the test at once when anything does.
func Start(tb testing.TB, backends []Backend, opt testreg.ImageOptions) *Fixture {
	tb.Helper()
	f := &Fixture{Quay: testreg.Start(tb), Hub: testreg.Start(tb)}
	var err error
	if f.Seeded, err = Seed(context.Background(), tb.TempDir(), f.Quay, f.Hub, DefaultRelease(), backends, opt); err != nil {
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
