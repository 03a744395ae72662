package loopreg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
)

// driverName is the storage type the configuration names. distribution's
// own inmemory and filesystem drivers embed its base driver, which imports
// its tracing package and with it the whole OpenTelemetry SDK, its
// exporters and gRPC; this driver implements the interface directly, so
// none of that is linked. It is also faster than the filesystem driver (no
// fsync per blob), which is most of the demo's start-up time.
const driverName = "remerge-memory"

func init() { factory.Register(driverName, memFactory{}) }

// memFactory hands distribution the driver the configuration carries, so a
// Registry keeps a handle on its own storage.
type memFactory struct{}

func (memFactory) Create(_ context.Context, params map[string]any) (storagedriver.StorageDriver, error) {
	d, ok := params["driver"].(*memDriver)
	if !ok {
		return nil, fmt.Errorf("%s: no driver in the configuration", driverName)
	}
	return d, nil
}

// memDriver keeps files in a map, with a child index per directory.
// Directories exist while something was created under them, as on a
// filesystem: deleting a file leaves its parent, which distribution
// expects.
type memDriver struct {
	mu       sync.RWMutex
	files    map[string]*memFile
	children map[string]map[string]struct{} // dir -> full paths of entries
}

// memFile holds its bytes in chunks that never move once written: an
// upload appends without copying what it already holds (a growing slice
// would keep up to three copies of a large layer alive mid-copy), and a
// reader keeps the chunks it was given while writers fill only the spare
// room past their ends.
type memFile struct {
	chunks [][]byte
	size   int64
	mod    time.Time
}

// maxChunk bounds the spare room a new chunk gets: as much as the file
// already holds (so a growing upload allocates a logarithmic number of
// chunks, wasting at most half), up to this.
const maxChunk = 1 << 20

func (f *memFile) append(b []byte) {
	room := int(min(f.size, maxChunk))
	f.size += int64(len(b))
	if n := len(f.chunks); n > 0 {
		last := f.chunks[n-1]
		k := min(cap(last)-len(last), len(b))
		f.chunks[n-1] = append(last, b[:k]...)
		b = b[k:]
	}
	if len(b) > 0 {
		c := make([]byte, len(b), max(len(b), room))
		copy(c, b)
		f.chunks = append(f.chunks, c)
	}
}

// bytesFrom returns the file's bytes from offset on, as the chunks stand
// now. Callers hold a lock; the slices stay valid after it is released.
func (f *memFile) bytesFrom(offset int64) [][]byte {
	var out [][]byte
	for _, c := range f.chunks {
		if offset >= int64(len(c)) {
			offset -= int64(len(c))
			continue
		}
		out = append(out, c[offset:len(c):len(c)])
		offset = 0
	}
	return out
}

func newMemDriver() *memDriver {
	return &memDriver{files: map[string]*memFile{}, children: map[string]map[string]struct{}{"/": {}}}
}

var _ storagedriver.StorageDriver = (*memDriver)(nil)

func (d *memDriver) Name() string { return driverName }

func checkPath(p string, rootOK bool) error {
	if (rootOK && p == "/") || storagedriver.PathRegexp.MatchString(p) {
		return nil
	}
	return storagedriver.InvalidPathError{Path: p, DriverName: driverName}
}

func (d *memDriver) notFound(p string) error {
	return storagedriver.PathNotFoundError{Path: p, DriverName: driverName}
}

// create makes an empty file at p, with its parent directories. Callers
// hold the write lock.
func (d *memDriver) create(p string) (*memFile, error) {
	if _, isDir := d.children[p]; isDir {
		return nil, storagedriver.Error{DriverName: driverName, Detail: fmt.Errorf("%s is a directory", p)}
	}
	f := &memFile{mod: time.Now()}
	d.files[p] = f
	for child := p; child != "/"; child = path.Dir(child) {
		dir := path.Dir(child)
		if _, isFile := d.files[dir]; isFile && dir != "/" {
			return nil, storagedriver.Error{DriverName: driverName, Detail: fmt.Errorf("%s is a file", dir)}
		}
		entries, ok := d.children[dir]
		if !ok {
			entries = map[string]struct{}{}
			d.children[dir] = entries
		}
		entries[child] = struct{}{}
	}
	return f, nil
}

func (d *memDriver) GetContent(_ context.Context, p string) ([]byte, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	f, ok := d.files[p]
	if !ok {
		return nil, d.notFound(p)
	}
	return bytes.Join(f.bytesFrom(0), nil), nil
}

func (d *memDriver) PutContent(_ context.Context, p string, content []byte) error {
	if err := checkPath(p, false); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := d.create(p)
	if err != nil {
		return err
	}
	f.append(content)
	return nil
}

// Reader returns the bytes from offset on, as they stand when it is called.
func (d *memDriver) Reader(_ context.Context, p string, offset int64) (io.ReadCloser, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	f, ok := d.files[p]
	if !ok {
		return nil, d.notFound(p)
	}
	if offset < 0 || offset > f.size {
		return nil, storagedriver.InvalidOffsetError{Path: p, Offset: offset, DriverName: driverName}
	}
	chunks := f.bytesFrom(offset)
	readers := make([]io.Reader, len(chunks))
	for i, c := range chunks {
		readers[i] = bytes.NewReader(c)
	}
	return io.NopCloser(io.MultiReader(readers...)), nil
}

func (d *memDriver) Writer(_ context.Context, p string, appendTo bool) (storagedriver.FileWriter, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[p]
	if !ok || !appendTo {
		var err error
		if f, err = d.create(p); err != nil {
			return nil, err
		}
	}
	return &memWriter{d: d, p: p, f: f}, nil
}

func (d *memDriver) Stat(_ context.Context, p string) (storagedriver.FileInfo, error) {
	if err := checkPath(p, true); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if f, ok := d.files[p]; ok {
		return storagedriver.FileInfoInternal{FileInfoFields: storagedriver.FileInfoFields{
			Path: p, Size: f.size, ModTime: f.mod,
		}}, nil
	}
	if _, ok := d.children[p]; ok {
		return storagedriver.FileInfoInternal{FileInfoFields: storagedriver.FileInfoFields{Path: p, IsDir: true}}, nil
	}
	return nil, d.notFound(p)
}

func (d *memDriver) List(_ context.Context, p string) ([]string, error) {
	if err := checkPath(p, true); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	entries, ok := d.children[p]
	if !ok {
		return nil, d.notFound(p)
	}
	out := make([]string, 0, len(entries))
	for e := range entries {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, nil
}

// subtree returns p and every path under it, files and directories.
// Callers hold a lock.
func (d *memDriver) subtree(p string) []string {
	out := []string{p}
	for e := range d.children[p] {
		out = append(out, d.subtree(e)...)
	}
	return out
}

// unlink removes p and everything under it; p's parent keeps existing.
// Callers hold the write lock.
func (d *memDriver) unlink(p string) {
	for _, e := range d.subtree(p) {
		delete(d.files, e)
		delete(d.children, e)
	}
	delete(d.children[path.Dir(p)], p)
}

func (d *memDriver) Move(_ context.Context, src, dst string) error {
	if err := checkPath(src, false); err != nil {
		return err
	}
	if err := checkPath(dst, false); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, isFile := d.files[src]
	_, isDir := d.children[src]
	if !isFile && !isDir {
		return d.notFound(src)
	}
	moved := map[string]*memFile{}
	for _, e := range d.subtree(src) {
		if f, ok := d.files[e]; ok {
			moved[dst+strings.TrimPrefix(e, src)] = f
		}
	}
	d.unlink(src)
	if _, ok := d.files[dst]; ok {
		d.unlink(dst)
	}
	for p, f := range moved {
		nf, err := d.create(p)
		if err != nil {
			return err
		}
		*nf = *f
	}
	return nil
}

func (d *memDriver) Delete(_ context.Context, p string) error {
	if err := checkPath(p, false); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, isFile := d.files[p]
	_, isDir := d.children[p]
	if !isFile && !isDir {
		return d.notFound(p)
	}
	d.unlink(p)
	return nil
}

// RedirectURL returns no redirect: clients read blobs from the registry.
func (d *memDriver) RedirectURL(*http.Request, string) (string, error) { return "", nil }

func (d *memDriver) Walk(ctx context.Context, p string, f storagedriver.WalkFn, opts ...func(*storagedriver.WalkOptions)) error {
	return storagedriver.WalkFallback(ctx, d, p, f, opts...)
}

// memWriter appends straight into its file, as the filesystem driver
// writes straight to disk: an upload's chunks are visible to Stat and
// Reader before Commit, and a later Writer(append) resumes them.
type memWriter struct {
	d                         *memDriver
	p                         string
	f                         *memFile
	closed, committed, cancel bool
}

func (w *memWriter) Write(b []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	w.f.append(b)
	w.f.mod = time.Now()
	return len(b), nil
}

func (w *memWriter) usable() error {
	switch {
	case w.closed:
		return fmt.Errorf("%s: already closed", w.p)
	case w.committed:
		return fmt.Errorf("%s: already committed", w.p)
	case w.cancel:
		return fmt.Errorf("%s: already cancelled", w.p)
	}
	return nil
}

func (w *memWriter) Size() int64 {
	w.d.mu.RLock()
	defer w.d.mu.RUnlock()
	return w.f.size
}

func (w *memWriter) Close() error {
	if w.closed {
		return fmt.Errorf("%s: already closed", w.p)
	}
	w.closed = true
	return nil
}

func (w *memWriter) Cancel(context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.cancel = true
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	if w.d.files[w.p] == w.f {
		w.d.unlink(w.p)
	}
	return nil
}

func (w *memWriter) Commit(context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.committed = true
	return nil

}
