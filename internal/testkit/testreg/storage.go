package testreg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/distribution/distribution/v3/configuration"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/go-skynet/remerge/internal/loopreg"
)

// Snapshot and Checkpoint read and put back the registry's storage through
// distribution's storage-driver interface, the driver loopreg hands the
// registry in its configuration: test support that needs no API of
// loopreg's own.

// captureDriver is a loopreg option that keeps the registry's storage
// driver, found in the configuration loopreg starts it with.
func captureDriver(d *storagedriver.StorageDriver) loopreg.Option {
	return loopreg.WithConfig(func(cfg *configuration.Configuration) error {
		drv, ok := cfg.Storage.Parameters()["driver"].(storagedriver.StorageDriver)
		if !ok {
			return errors.New("testreg: no storage driver in the registry's configuration")
		}
		*d = drv
		return nil
	})
}

// files reads every file of the storage, keyed by path.
func (r *Registry) files() (map[string][]byte, error) {
	ctx := context.Background()
	out := map[string][]byte{}
	err := r.driver.Walk(ctx, "/", func(fi storagedriver.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		b, err := r.driver.GetContent(ctx, fi.Path())
		if err != nil {
			return err
		}
		out[fi.Path()] = b
		return nil
	})
	var nf storagedriver.PathNotFoundError
	if errors.As(err, &nf) {
		return out, nil // nothing stored yet
	}
	if err != nil {
		return nil, fmt.Errorf("reading registry storage: %w", err)
	}
	return out, nil
}

// Snapshot hashes every file of the registry's storage (path -> sha256
// hex; directories map to "dir"), so a test can show that a dry run wrote
// nothing. In-progress upload state (_uploads) is left out.
func (r *Registry) Snapshot() (map[string]string, error) {
	files, err := r.files()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for p, b := range files {
		if strings.Contains(p, "/_uploads/") {
			continue
		}
		sum := sha256.Sum256(b)
		rel := strings.TrimPrefix(p, "/")
		out[rel] = hex.EncodeToString(sum[:])
		for dir := path.Dir(rel); dir != "." && dir != "/"; dir = path.Dir(dir) {
			out[dir] = "dir"
		}
	}
	return out, nil
}

// Checkpoint records the registry's whole storage and returns a function
// that puts it back, so a benchmark can measure a destructive run (a
// repair) twice on the same state without seeding twice. Restore only
// while no request is in flight. It panics when the storage cannot be
// read or written: it is in memory, so that is a bug.
func (r *Registry) Checkpoint() (restore func()) {
	saved, err := r.files()
	if err != nil {
		panic(err)
	}
	return func() {
		ctx := context.Background()
		top, err := r.driver.List(ctx, "/")
		if err != nil && !errors.As(err, new(storagedriver.PathNotFoundError)) {
			panic(err)
		}
		for _, p := range top {
			if err := r.driver.Delete(ctx, p); err != nil {
				panic(err)
			}
		}
		for p, b := range saved {
			if err := r.driver.PutContent(ctx, p, b); err != nil {
				panic(err)
			}
		}
	}
}
