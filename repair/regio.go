package repair

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
)

// This file holds repair's manifest reads and its registry writer (the
// pushes, mounts and blob copies of Execute). The plan's and the
// execution's other reads (blob links, configs, tags, referrers) go
// through the same registry.Client. Every call goes through the client's
// options, so the per-host concurrency bound, the Retry-After handling and
// the shared credentials apply to repairs too.

// headManifest resolves ref (tag or digest). A 404 is (nil, nil).
func headManifest(ctx context.Context, c *registry.Client, ref name.Reference) (*v1.Descriptor, error) {
	d, err := c.Head(ctx, ref)
	if registry.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// getManifest fetches a manifest's raw bytes and media type. When ref is a
// digest the bytes are checked against it.
func getManifest(ctx context.Context, c *registry.Client, ref name.Reference) ([]byte, string, error) {
	raw, desc, err := c.Manifest(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	if dg, ok := ref.(name.Digest); ok {
		if got := manifest.DigestOf(raw); got != dg.DigestStr() {
			return nil, "", fmt.Errorf("fetching manifest %s: bytes hash to %s", ref, got)
		}
	}
	return raw, manifest.MediaTypeOf(string(desc.MediaType), raw), nil
}

// writer does the writes of one Execute through one Pusher: tokens and
// pings are shared by every write of the repair, and go-containerregistry's
// per-digest memory of finished uploads lives no longer than the repair (a
// blob link dropped later must be seen as missing by the next repair).
type writer struct {
	c      *registry.Client
	pusher *remote.Pusher
}

func newWriter(ctx context.Context, c *registry.Client) (*writer, error) {
	p, err := remote.NewPusher(c.BaseOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("preparing registry writes: %w", err)
	}
	return &writer{c: c, pusher: p}, nil
}

// Session is what the re-merges of one run (repair --all) share instead
// of setting it up each on its own: one registry writer, so a target repo
// is pinged and its push token fetched once per run rather than once per
// re-merge. Its memory of finished uploads lives as long as the run, so
// use a new Session for each run. The zero value is ready to use and safe
// for concurrent use.
type Session struct {
	mu sync.Mutex
	c  *registry.Client
	w  *writer
}

// writer is the session's writer for client c, made on first use; a
// session used with another client gets a writer of its own.
func (s *Session) writer(ctx context.Context, c *registry.Client) (*writer, error) {
	if s == nil {
		return newWriter(ctx, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil && s.c == c {
		return s.w, nil
	}
	w, err := newWriter(context.WithoutCancel(ctx), c)
	if err != nil {
		return nil, err
	}
	s.c, s.w = c, w
	return w, nil
}

func (w *writer) opts(ctx context.Context) []remote.Option {
	return append(w.c.BaseOptions(ctx), remote.Reuse(w.pusher), remote.Reuse(w.c.Puller()))
}

// putManifest PUTs raw bytes under ref (a digest or a tag).
func (w *writer) putManifest(ctx context.Context, ref name.Reference, raw []byte, mediaType string) error {
	if err := remote.Put(ref, registry.RawManifest{Raw: raw, Type: mediaType}, w.opts(ctx)...); err != nil {
		return fmt.Errorf("putting manifest %s: %w", ref, err)
	}
	return nil
}

// copyBlob makes dst hold blob b, read from src. On the same registry it
// asks for a cross-repo mount first (go-containerregistry's MountableLayer:
// POST ?mount=&from=, falling back to an upload when the registry declines);
// across registries it streams the bytes from src to dst without holding the
// blob in memory. onBytes receives byte counts as they stream (negative when
// a retry starts over). It reports whether bytes moved.
func (w *writer) copyBlob(ctx context.Context, src, dst name.Repository, b Blob, sameHost bool, onBytes func(int64)) (uploaded bool, err error) {
	h, err := v1.NewHash(b.Digest)
	if err != nil {
		return false, fmt.Errorf("blob digest %q: %w", b.Digest, err)
	}
	rl, err := w.c.Puller().Layer(ctx, src.Digest(b.Digest))
	if err != nil {
		return false, fmt.Errorf("opening blob %s in %s: %w", b.Digest, src, err)
	}
	sl := &streamLayer{src: rl, digest: h, size: b.Size, mediaType: types.MediaType(b.MediaType), onBytes: onBytes}
	var l v1.Layer = sl
	if sameHost {
		l = &remote.MountableLayer{Layer: sl, Reference: src.Digest(b.Digest)}
	}
	if err := remote.WriteLayer(dst, l, w.opts(ctx)...); err != nil {
		return sl.opened(), fmt.Errorf("copying blob %s from %s to %s: %w", b.Digest, src, dst, err)
	}
	return sl.opened(), nil
}

// streamLayer is a blob known by digest, size and media type whose bytes
// are read from the source registry only if the target asks for them (no
// mount), counting them for progress.
type streamLayer struct {
	src       v1.Layer
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
	onBytes   func(int64)

	mu   sync.Mutex
	read int64
	open bool
}

func (l *streamLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *streamLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("diff id not known for a copied blob")
}
func (l *streamLayer) Size() (int64, error)                { return l.size, nil }
func (l *streamLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *streamLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("a copied blob is only streamed compressed")
}

// Compressed opens the source blob. A second open (a retried upload) starts
// the count over.
func (l *streamLayer) Compressed() (io.ReadCloser, error) {
	l.mu.Lock()
	prev := l.read
	l.read, l.open = 0, true
	l.mu.Unlock()
	if prev != 0 && l.onBytes != nil {
		l.onBytes(-prev)
	}
	rc, err := l.src.Compressed()
	if err != nil {
		return nil, err
	}
	return &countingReader{rc: rc, l: l}, nil
}

func (l *streamLayer) opened() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

type countingReader struct {
	rc io.ReadCloser
	l  *streamLayer
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 {
		r.l.mu.Lock()
		r.l.read += int64(n)
		r.l.mu.Unlock()
		if r.l.onBytes != nil {
			r.l.onBytes(int64(n))
		}
	}
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
