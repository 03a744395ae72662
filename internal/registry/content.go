package registry

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/cas"
)

// This file is the Client's memory of what is addressed by digest. Docker
// Hub counts every manifest GET as a pull (HEADs and blob GETs are free),
// and a digest names the same bytes in every repo and registry, so:
//
//   - on a registry that counts pulls a tag's digest is learnt with a HEAD,
//     and its bytes fetched only when not already known; on one known not
//     to count, one GET answers both (counting.go decides);
//   - whether a repo holds a digest is always asked of that repo (a HEAD:
//     garbage collection is per repo); only the bytes are shared;
//   - bytes come from this run's memory, then the disk cache (cas), then
//     the cheapest repo seen holding the digest: one whose registry does
//     not count pulls, before the asked repo when its registry does;
//   - one digest is fetched once at a time: a second asker waits for the
//     first fetch instead of sending its own.
//
// What a tag points to is never kept: only digest -> bytes, verified.

// maxMemory bounds the bytes the run keeps in memory; past it, new bytes
// go to the disk cache only (a LocalAI-size release needs a few MiB).
const maxMemory = 64 << 20

// maxHolders bounds the repos remembered per digest.
const maxHolders = 8

// content is the run's digest -> bytes layer over the disk cache, with
// which repos were seen holding each digest and which hosts count pulls.
type content struct {
	disk     *cas.Store // nil: no disk cache
	counting *pullCounting

	mu       sync.Mutex
	mem      map[string][]byte
	memBytes int64
	inflight map[string]*fetchCall
	holders  map[string][]name.Repository
}

type fetchCall struct {
	done chan struct{}
	raw  []byte
	err  error
}

func newContent(disk *cas.Store, counted []string) *content {
	return &content{disk: disk, counting: newPullCounting(counted), mem: map[string][]byte{},
		inflight: map[string]*fetchCall{}, holders: map[string][]name.Repository{}}
}

// known returns the bytes of digest from memory or the disk cache.
func (c *content) known(digest string) []byte {
	c.mu.Lock()
	b, ok := c.mem[digest]
	c.mu.Unlock()
	if ok {
		return b
	}
	if c.disk == nil {
		return nil
	}
	if b, ok = c.disk.Get(digest); !ok {
		return nil
	}
	c.keep(digest, b, false)
	return b
}

// keep remembers verified bytes in memory and, with toDisk, on disk.
func (c *content) keep(digest string, b []byte, toDisk bool) {
	c.mu.Lock()
	if _, ok := c.mem[digest]; !ok && c.memBytes+int64(len(b)) <= maxMemory {
		c.mem[digest] = b
		c.memBytes += int64(len(b))
	}
	c.mu.Unlock()
	if toDisk && c.disk != nil {
		_ = c.disk.Put(digest, b) // a failed write only costs a later read
	}
}

// held records that repo holds digest (a HEAD or GET answered 200).
func (c *content) held(repo name.Repository, digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs := c.holders[digest]
	for _, h := range hs {
		if h.String() == repo.String() {
			return
		}
	}
	if len(hs) < maxHolders {
		c.holders[digest] = append(hs, repo)
	}
}

// Remember keeps bytes the caller built itself, for the Client's life
// (not on disk): bytes are the content of the digest they hash to, so a
// list computed as the merge writes it serves a registry answering that
// digest with no GET. It returns the digest.
func (c *Client) Remember(raw []byte) string {
	d := cas.Digest(raw)
	c.content.keep(d, raw, false)
	return d
}

// Holds records that repo was seen holding digest without a request of
// its own (a child named by a list read there: a registry stores a list
// only over children it holds), so its bytes may be read there rather than
// from a registry that counts pulls. Existence is still asked of every
// repo it matters for.
func (c *Client) Holds(repo name.Repository, digest string) { c.content.held(repo, digest) }

// CountsPulls says whether host counts manifest GETs as pulls (Docker Hub,
// Options.PullCounted, or a host seen announcing a pull limit), so that
// work on it can wait for bytes read elsewhere for free.
func (c *Client) CountsPulls(host string) bool { return c.content.counting.counts(host) }

// cheaper is a repo seen holding digest on a registry that does not count
// pulls, when at's registry does; else at itself.
func (c *content) cheaper(at name.Repository, digest string) name.Repository {
	if !c.counting.counts(at.RegistryStr()) {
		return at
	}
	c.mu.Lock()
	hs := append([]name.Repository(nil), c.holders[digest]...)
	c.mu.Unlock()
	for _, h := range hs {
		if !c.counting.counts(h.RegistryStr()) {
			return h
		}
	}
	return at
}

// load returns digest's bytes from memory or the disk cache when they are
// known, else fetches them once (see once), looking again first: a fetch
// that ended while this one waited for its turn may have kept them.
func (c *content) load(ctx context.Context, digest string, fetch func() ([]byte, error)) ([]byte, error) {
	if b := c.known(digest); b != nil {
		return b, nil
	}
	return c.once(ctx, digest, func() ([]byte, error) {
		if b := c.known(digest); b != nil {
			return b, nil
		}
		return fetch()
	})
}

// once runs fetch for digest unless a fetch of it is in flight, in which
// case it waits for that one and takes its bytes; when that one failed it
// fetches itself (the other fetch's repo may simply not hold the digest).
func (c *content) once(ctx context.Context, digest string, fetch func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	call, waiting := c.inflight[digest]
	if !waiting {
		call = &fetchCall{done: make(chan struct{})}
		c.inflight[digest] = call
	}
	c.mu.Unlock()
	if waiting {
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if call.err == nil {
			return call.raw, nil
		}
		if b := c.known(digest); b != nil {
			return b, nil
		}
		return fetch()
	}
	call.raw, call.err = fetch()
	c.mu.Lock()
	delete(c.inflight, digest)
	c.mu.Unlock()
	close(call.done)
	return call.raw, call.err
}

// ReadOption changes how Manifest reads.
type ReadOption func(*readOptions)

type readOptions struct {
	beforeBytes func()
}

// BeforeBytes runs wait between a HEAD and the read of the bytes it named,
// when Manifest reads them so (on a registry that counts pulls): a caller
// that expects the bytes to be read elsewhere for free meanwhile waits
// there, and the read then costs no pull.
func BeforeBytes(wait func()) ReadOption {
	return func(o *readOptions) { o.beforeBytes = wait }
}

// Manifest returns a manifest's bytes exactly as served (a re-merge must
// never re-marshal them), verified against its digest, with the
// descriptor the repo answered. Whether ref's repo holds it is always
// asked of that repo:
//
//   - a tag: one GET on a registry known not to count pulls; on one that
//     counts them (or not known yet) a HEAD for its digest, then the bytes
//     as ManifestBytes finds them (pullCounting.headFirst decides);
//   - a digest whose bytes are known, or were seen held on a registry that
//     does not count pulls when ref's does: a HEAD, then those bytes;
//   - any other digest: one GET, which answers both.
func (c *Client) Manifest(ctx context.Context, ref name.Reference, opts ...ReadOption) ([]byte, *v1.Descriptor, error) {
	var o readOptions
	for _, f := range opts {
		f(&o)
	}
	answered := func() {}
	if dg, isDigest := ref.(name.Digest); isDigest {
		if c.content.known(dg.DigestStr()) == nil &&
			c.content.cheaper(dg.Context(), dg.DigestStr()).String() == dg.Context().String() {
			return c.fetchDigest(ctx, dg)
		}
	} else {
		var head bool
		head, answered = c.content.counting.headFirst(ctx, ref.Context().RegistryStr())
		if !head {
			return c.getManifest(ctx, ref)
		}
	}
	desc, err := c.Head(ctx, ref)
	answered()
	if err != nil {
		return nil, nil, err
	}
	if o.beforeBytes != nil {
		o.beforeBytes()
	}
	raw, err := c.ManifestBytes(ctx, ref.Context().Digest(desc.Digest.String()))
	if err != nil {
		return nil, nil, err
	}
	return raw, desc, nil
}

// fetchDigest GETs dg, whose bytes are not known: one GET answers both
// questions. When another fetch of the digest was in flight its bytes are
// taken, and a HEAD asks this repo.
func (c *Client) fetchDigest(ctx context.Context, dg name.Digest) ([]byte, *v1.Descriptor, error) {
	var desc *v1.Descriptor
	raw, err := c.content.once(ctx, dg.DigestStr(), func() ([]byte, error) {
		r, d, err := c.getManifest(ctx, dg)
		desc = d
		return r, err
	})
	if err == nil && desc == nil {
		desc, err = c.Head(ctx, dg)
	}
	if err != nil {
		return nil, nil, err
	}
	return raw, desc, nil
}

// ManifestBytes returns the bytes of the manifest at, which the caller
// already knows at's repo holds (a HEAD or a tag answered with its
// digest): from memory, the disk cache, a repo on a registry that does
// not count pulls seen holding it, or at itself. It never answers
// "not found": a 404 from at contradicts what the caller was told, so it
// is an error that could not tell, never absence.
func (c *Client) ManifestBytes(ctx context.Context, at name.Digest) ([]byte, error) {
	raw, err := c.manifestBytes(ctx, at)
	if err != nil && IsNotFound(err) {
		_, text := Classify(err)
		return nil, fmt.Errorf("reading %s: not found (%s), though the registry had just named it", at, text)
	}
	return raw, err
}

func (c *Client) manifestBytes(ctx context.Context, at name.Digest) ([]byte, error) {
	digest := at.DigestStr()
	return c.content.load(ctx, digest, func() ([]byte, error) {
		if src := c.content.cheaper(at.Context(), digest); src.String() != at.Context().String() {
			if raw, _, err := c.getManifest(ctx, src.Digest(digest)); err == nil {
				return raw, nil
			}
		}
		raw, _, err := c.getManifest(ctx, at)
		return raw, err
	})
}

// getManifest GETs a manifest, by digest or by tag, checks the bytes
// against the digest (the one asked for, or the one they name) and keeps
// them.
func (c *Client) getManifest(ctx context.Context, ref name.Reference) ([]byte, *v1.Descriptor, error) {
	d, err := c.puller.Get(ctx, ref)
	if err != nil {
		return nil, nil, wrap(err, "GET manifest %s", ref)
	}
	want := d.Digest.String()
	if dg, ok := ref.(name.Digest); ok {
		want = dg.DigestStr()
	}
	if got := cas.Digest(d.Manifest); got != want {
		return nil, nil, fmt.Errorf("GET manifest %s: bytes hash to %s, not %s", ref, got, want)
	}
	c.content.held(ref.Context(), want)
	c.content.keep(want, d.Manifest, true)
	desc := d.Descriptor
	return d.Manifest, &desc, nil
}

// SmallBlob reads a small blob (an image config) whole, at most limit
// bytes, verified against its digest: from memory, the disk cache, or
// repo. Blob GETs are no pulls, so repo itself is asked.
func (c *Client) SmallBlob(ctx context.Context, repo name.Repository, digest string, limit int64) ([]byte, error) {
	return c.content.load(ctx, digest, func() ([]byte, error) {
		l, err := c.puller.Layer(ctx, repo.Digest(digest))
		if err != nil {
			return nil, fmt.Errorf("fetching blob %s from %s: %w", digest, repo, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, fmt.Errorf("fetching blob %s from %s: %w", digest, repo, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, fmt.Errorf("reading blob %s from %s: %w", digest, repo, err)
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("blob %s in %s is larger than %d bytes", digest, repo, limit)
		}
		if got := cas.Digest(b); got != digest {
			return nil, fmt.Errorf("blob %s in %s: bytes hash to %s", digest, repo, got)
		}
		c.content.keep(digest, b, true)
		return b, nil
	})
}
