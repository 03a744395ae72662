package cas

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func blob(i, size int) []byte {
	b := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	copy(b, fmt.Sprintf("%08d", i))
	return b
}

func TestPutGet(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(`{"schemaVersion":2}`)
	d := Digest(b)
	if _, ok := s.Get(d); ok {
		t.Fatal("empty store answers a Get")
	}
	if err := s.Put(d, b); err != nil {
		t.Fatal(err)
	}
	got, ok := s.Get(d)
	if !ok || !bytes.Equal(got, b) {
		t.Fatalf("Get = %q, %v; want the bytes put", got, ok)
	}
	// Bytes that are not the digest's are refused, never stored.
	other := "sha256:" + strings.Repeat("0", 64)
	if err := s.Put(other, b); err == nil {
		t.Error("Put under another digest succeeded")
	}
	if _, ok := s.Get(other); ok {
		t.Error("bytes stored under a digest they do not hash to")
	}
	for _, bad := range []string{"", "sha256:xyz", "sha512:" + strings.Repeat("0", 128), "sha256:../../etc/passwd"} {
		if _, ok := s.Get(bad); ok {
			t.Errorf("Get(%q) answered", bad)
		}
	}
	// The files are where an OCI layout keeps its blobs.
	if _, err := os.Stat(filepath.Join(s.Dir(), "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))); err != nil {
		t.Error(err)
	}
}

// A file whose bytes no longer hash to its name (a torn disk write, an
// edit) is removed on read and reads as absent: the caller asks the
// registry again.
func TestCorruptEntryIsDropped(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := blob(1, 100)
	d := Digest(b)
	if err := s.Put(d, b); err != nil {
		t.Fatal(err)
	}
	p := s.path(d)
	if err := os.WriteFile(p, blob(2, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Get(d); ok {
		t.Fatalf("corrupt entry answered %q", got[:8])
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("corrupt entry left on disk: %v", err)
	}
	if err := s.Put(d, b); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Get(d); !ok || !bytes.Equal(got, b) {
		t.Error("entry not stored again after the corrupt one was dropped")
	}
}

// Past its bound the store evicts the least recently used entries (a read
// counts as a use) down to three quarters of the bound.
func TestSizeBoundEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	const size, bound = 1000, 10_000
	s, err := Open(t.TempDir(), bound)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	var ds []string
	for i := range 10 {
		b := blob(i, size)
		ds = append(ds, Digest(b))
		if err := s.Put("", b); err != nil {
			t.Fatal(err)
		}
		// Each entry written a second apart; entry 0 is read last, so it
		// is the most recently used.
		tm := clock.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(s.path(ds[i]), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Minute)
	if _, ok := s.Get(ds[0]); !ok {
		t.Fatal("entry 0 missing before the bound was passed")
	}
	if err := s.Put("", blob(10, size)); err != nil { // 11 000 bytes: over
		t.Fatal(err)
	}
	var kept []int
	total := int64(0)
	for i, d := range ds {
		if fi, err := os.Stat(s.path(d)); err == nil {
			kept = append(kept, i)
			total += fi.Size()
		}
	}
	if total+size > bound/4*3 {
		t.Errorf("%d bytes left after eviction (kept %v), want at most %d", total+size, kept, bound/4*3)
	}
	if len(kept) == 0 || kept[0] != 0 {
		t.Errorf("kept %v: the most recently read entry 0 was evicted", kept)
	}
	for _, i := range []int{1, 2, 3} {
		if _, err := os.Stat(s.path(ds[i])); err == nil {
			t.Errorf("entry %d (least recently used) kept", i)
		}
	}
	if _, ok := s.Get(Digest(blob(10, size))); !ok {
		t.Error("the entry just written was evicted")
	}
}

// Several processes share the directory: writers go through a temporary
// file and a rename, so a reader sees a whole entry or none. Two stores
// on one directory stand for two processes.
func TestConcurrentStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var stores []*Store
	for range 2 {
		s, err := Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			s := stores[w%2]
			for i := range 50 {
				b := blob(i, 64<<10)
				d := Digest(b)
				if err := s.Put(d, b); err != nil {
					t.Error(err)
					return
				}
				if got, ok := s.Get(d); ok && !bytes.Equal(got, b) {
					t.Errorf("entry %d read torn", i)
					return
				}
			}
		})
	}
	wg.Wait()
	left, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", tempPrefix+"*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
