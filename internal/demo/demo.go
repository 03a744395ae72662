// Package demo is the broken release `remerge-demo` (and `make run`)
// opens: two real registries on loopback, seeded by internal/scenario, and
// the TUI's service over them. It is the only product package that links a
// registry server, so only cmd/remerge-demo imports it; cmd/remerge's
// depcheck test keeps it out of the remerge binary.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/loopreg"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
)

// Demo is a broken release on two real registries on loopback, standing for
// quay.io (target and ci-cache anchor) and docker.io: what `remerge-demo`
// and `make run` open, so a new user sees every state and can re-merge
// offline.
type Demo struct {
	Quay, Hub *loopreg.Registry
	Seeded    *scenario.Seeded
	Dir       string
}

// LayerSize makes a cross-registry copy move enough bytes for its
// progress to read as a copy (two layers: "64 KiB/128 KiB"). The demo's
// registries keep every blob in memory, about 230 per registry, so it is
// also what the demo costs in RAM (30 MB).
const LayerSize = 64 << 10

// Start starts the registries (storage in memory) and seeds the demo
// release, whose config, matrix, digests folder and audit log go into a new
// temp dir. Close removes everything.
func Start(ctx context.Context) (*Demo, error) {
	dir, err := os.MkdirTemp("", "remerge-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Dir: dir}
	if d.Quay, err = loopreg.New(); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: starting the quay.io stand-in: %w", err)
	}
	if d.Hub, err = loopreg.New(); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: starting the docker.io stand-in: %w", err)
	}
	d.Seeded, err = scenario.Seed(ctx, dir, d.Quay, d.Hub, scenario.DefaultRelease(), scenario.Demo(),
		loopreg.ImageOptions{Layers: 2, LayerSize: LayerSize}, scenario.WriterSteps())
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: seeding: %w", err)
	}
	return d, nil
}

// Service returns the TUI's service over the demo release, with its digests
// folder and an audit log kept inside the demo dir.
func (d *Demo) Service(c *registry.Client) (*app.Service, error) {
	m, err := release.LoadMatrix(d.Seeded.MatrixPath)
	if err != nil {
		return nil, err
	}
	dg, err := inspect.ReadDigestsDir(d.Seeded.DigestsDir)
	if err != nil {
		return nil, err
	}
	return &app.Service{
		Release: d.Seeded.Release,
		Config:  d.Seeded.Config,
		Matrix:  m,
		Digests: dg,
		Client:  c,
		Audit:   d.AuditPath(),
	}, nil
}

// AuditPath is the demo's audit log: inside its temp dir, where
// $XDG_STATE_HOME=Dir puts the default log too, so the TUI, `repair
// --audit` and a TUI started with that variable all log to one file, and
// never to the user's real one.
func (d *Demo) AuditPath() string { return filepath.Join(d.Dir, "remerge", "audit.jsonl") }

// Close stops the registries and removes the demo dir.
func (d *Demo) Close() error {
	var errs []error
	for _, r := range []*loopreg.Registry{d.Quay, d.Hub} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	errs = append(errs, os.RemoveAll(d.Dir))
	return errors.Join(errs...)
}
