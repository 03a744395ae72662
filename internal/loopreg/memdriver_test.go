package loopreg

import (
	"flag"
	"os"
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/testsuites"
)

// TestMain runs the package in -short mode always: in full mode the driver
// suite below streams a 5 GiB file and 32 streams of 32 MiB through an
// in-memory driver, gigabytes of RAM on a shared 2-core machine, to prove
// nothing the short mode (8 streams of 8 MiB) does not.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := flag.Set("test.short", "true"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestMemDriverConformance runs distribution's own storage-driver suite
// (the one its inmemory and filesystem drivers pass) against memDriver:
// reads, writes, appends, resumed writers, moves, deletes, listings, walks,
// stat times and concurrent streams, as the registry will use them.
func TestMemDriverConformance(t *testing.T) {
	testsuites.Driver(t, func() (storagedriver.StorageDriver, error) { return newMemDriver(), nil }, false)
}
