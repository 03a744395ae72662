package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testreg"
)

// Demo is a broken release on two real registries on loopback, standing for
// quay.io (target and ci-cache anchor) and docker.io: what `remerge demo`
// and `make run` open, so a new user sees every state and can re-merge
// offline.
type Demo struct {
	Quay, Hub *testreg.Registry
	Seeded    *scenario.Seeded
	Dir       string
}

// DemoLayerSize makes cross-registry copies big enough to show progress.
const DemoLayerSize = 256 << 10

// StartDemo starts the registries under a new temp dir and seeds the demo
// release. Close removes everything.
func StartDemo(ctx context.Context) (*Demo, error) {
	dir, err := os.MkdirTemp("", "remerge-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Dir: dir}
	if d.Quay, err = testreg.New(testreg.WithRootDir(filepath.Join(dir, "quay"))); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: starting the quay.io stand-in: %w", err)
	}
	if d.Hub, err = testreg.New(testreg.WithRootDir(filepath.Join(dir, "dockerhub"))); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: starting the docker.io stand-in: %w", err)
	}
	d.Seeded, err = scenario.Seed(ctx, dir, d.Quay, d.Hub, scenario.DefaultRelease(), scenario.Demo(),
		testreg.ImageOptions{Layers: 2, LayerSize: DemoLayerSize}, scenario.WriterSteps())
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: seeding: %w", err)
	}
	return d, nil
}

// Service returns the TUI's service over the demo release, with its digests
// folder and an audit log kept inside the demo dir.
func (d *Demo) Service(c *registry.Client) (*Service, error) {
	m, err := inspect.LoadMatrix(d.Seeded.MatrixPath)
	if err != nil {
		return nil, err
	}
	dg, err := inspect.ReadDigestsDir(d.Seeded.DigestsDir)
	if err != nil {
		return nil, err
	}
	return &Service{
		Release: d.Seeded.Release,
		Config:  d.Seeded.Config,
		Matrix:  m,
		Digests: dg,
		Client:  c,
		Audit:   filepath.Join(d.Dir, "audit.jsonl"),
	}, nil
}

// Close stops the registries and removes the demo dir.
func (d *Demo) Close() error {
	var errs []error
	for _, r := range []*testreg.Registry{d.Quay, d.Hub} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	errs = append(errs, os.RemoveAll(d.Dir))
	return errors.Join(errs...)
}
