// Package cas is remerge's content-addressed cache on disk: manifests and
// config blobs, keyed by their sha256 digest. What a digest names never
// changes, so bytes read once from any registry (or in an earlier run)
// serve every later read of that digest, in every repo and registry, with
// no request at all. What a tag points to, and whether a repo still holds
// a digest, are never stored here: they change, and are asked afresh.
//
// The files sit where an OCI image layout keeps its blobs
// (<dir>/blobs/sha256/<hex>), so go-containerregistry's layout.Path can
// read them, but the store does not use pkg/v1/layout to write: its
// WriteBlob creates the final file in place (a process reading meanwhile
// sees half a blob), its index.json is one file rewritten whole on every
// append (two processes lose each other's entries; remerge needs no index,
// only digests), and it has no size bound or eviction. Here every write
// goes to a temporary file renamed into place, every read is checked
// against the digest (a corrupt entry is dropped and reads as a miss), and
// the total size is bounded, evicting the least recently used first (a
// read touches the file's modification time).
package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/adrg/xdg"
)

// DefaultMaxBytes bounds the store when no bound is given: a LocalAI-size
// release's manifests and configs take a few MiB, so 256 MiB holds many
// releases and still never fills a disk.
const DefaultMaxBytes = 256 << 20

// maxEntry is the largest entry stored or read: manifests and configs are
// kilobytes, and registry reads are capped at a few MiB.
const maxEntry = 8 << 20

// tempPrefix names files being written; a crashed writer's leftovers older
// than staleTemp are removed by the next eviction.
const (
	tempPrefix = ".tmp-"
	staleTemp  = time.Hour
)

// Store is a bounded content-addressed store in one directory. It is safe
// for concurrent use, and for several processes sharing the directory.
type Store struct {
	dir string
	max int64
	now func() time.Time

	mu sync.Mutex
	// size is this process's estimate of the bytes stored, -1 until the
	// first write scans the directory; other processes' writes make it
	// drift, and every eviction rescans.
	size int64
}

// Open returns the store in dir, creating the directory. maxBytes <= 0
// means DefaultMaxBytes.
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	return &Store{dir: dir, max: maxBytes, now: time.Now, size: -1}, nil
}

// Dir is the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// path is the file of a digest, or "" when the digest is not sha256:<64 hex>.
func (s *Store) path(digest string) string {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(h) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
		return ""
	}
	return filepath.Join(s.dir, "blobs", "sha256", h)
}

// Get returns the bytes of digest when the store holds them intact. A file
// whose bytes do not hash to its name is removed and reported absent, so
// the caller reads the registry again.
func (s *Store) Get(digest string) ([]byte, bool) {
	p := s.path(digest)
	if p == "" {
		return nil, false
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Size() > maxEntry {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	if Digest(b) != digest {
		_ = os.Remove(p)
		return nil, false
	}
	t := s.now()
	_ = os.Chtimes(p, t, t) // most recently used; best effort
	return b, true
}

// Put stores b under its own digest; want, when not empty, must be that
// digest (bytes that do not match are refused, never stored). A failure to
// write only costs a later read from the registry, so callers may ignore it.
func (s *Store) Put(want string, b []byte) error {
	d := Digest(b)
	if want != "" && want != d {
		return fmt.Errorf("cache: bytes hash to %s, not %s", d, want)
	}
	if len(b) > maxEntry {
		return fmt.Errorf("cache: %s is %d bytes, over %d", d, len(b), maxEntry)
	}
	p := s.path(d)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(p), tempPrefix)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("cache: writing %s: %w", d, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("cache: %w", err)
	}
	s.grow(int64(len(b)))
	return nil
}

// grow adds n bytes to the size estimate and evicts when over the bound.
func (s *Store) grow(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size < 0 {
		s.size = s.scanSize()
	} else {
		s.size += n
	}
	if s.size > s.max {
		s.size = s.evict()
	}
}

// scanSize sums the sizes of the stored entries.
func (s *Store) scanSize() int64 {
	var total int64
	for _, e := range s.entries() {
		total += e.size
	}
	return total
}

type entry struct {
	path string
	size int64
	used time.Time
}

// entries lists the stored files, removing stale temporary files.
func (s *Store) entries() []entry {
	dir := filepath.Join(s.dir, "blobs", "sha256")
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make([]entry, 0, len(des))
	for _, de := range des {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		if strings.HasPrefix(de.Name(), tempPrefix) {
			if s.now().Sub(fi.ModTime()) > staleTemp {
				_ = os.Remove(p)
			}
			continue
		}
		out = append(out, entry{path: p, size: fi.Size(), used: fi.ModTime()})
	}
	return out
}

// evict removes the least recently used entries until the store is at
// most three quarters full (so it does not evict on every write), and
// returns the size left. Another process evicting at the same time only
// makes a removal fail as already done.
func (s *Store) evict() int64 {
	es := s.entries()
	sort.Slice(es, func(i, j int) bool { return es[i].used.Before(es[j].used) })
	var total int64
	for _, e := range es {
		total += e.size
	}
	low := s.max / 4 * 3
	for _, e := range es {
		if total <= low {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	return total
}

// Digest is the sha256 digest of b, "sha256:<hex>".
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// DirEnv names the environment variable that puts the cache elsewhere
// than $XDG_CACHE_HOME/remerge: tests and the bench point it at a
// temporary directory, never at the user's cache.
const DirEnv = "REMERGE_CACHE_DIR"

// DefaultDir is where remerge keeps its cache: $REMERGE_CACHE_DIR when
// set, else remerge under the XDG cache directory (~/.cache/remerge).
func DefaultDir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	return filepath.Join(xdg.CacheHome, "remerge")
}
