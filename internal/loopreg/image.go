package loopreg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// randomImage builds an image of opt.Layers random layers. Unlike
// go-containerregistry's random.Image, whose layers gzip their bytes again
// on every read, each layer here is compressed once and kept: seeding pushes
// one image into up to three repos, and gzip was a sixth of the demo's
// start-up time.
func randomImage(opt ImageOptions) (v1.Image, error) {
	var seed [32]byte
	if opt.Seed != 0 {
		binary.LittleEndian.PutUint64(seed[:], uint64(opt.Seed))
	} else if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	// ChaCha8 fills a layer several times faster than math/rand's source.
	rng := rand.NewChaCha8(seed)
	adds := make([]mutate.Addendum, 0, opt.Layers)
	for i := range opt.Layers {
		l, err := randomLayer(rng, opt.LayerSize)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{
			CreatedBy: "remerge loopreg",
			Comment:   fmt.Sprintf("random layer %d of %d", i+1, opt.Layers),
		}})
	}
	return mutate.Append(empty.Image, adds...)
}

// randomLayer is a tar holding one file of size random bytes, gzipped
// without compression (random bytes do not shrink; stored blocks are still
// a valid gzip stream, and cheap).
func randomLayer(rng *rand.ChaCha8, size int64) (v1.Layer, error) {
	payload := make([]byte, size)
	_, _ = rng.Read(payload) // never fails
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("random_file_%d.txt", rng.Uint64()), Size: size, Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(payload); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.NoCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(tarball.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(tarball.Bytes()))
	if err != nil {
		return nil, err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(gz.Bytes()))
	if err != nil {
		return nil, err
	}
	return &blobLayer{gz: gz.Bytes(), digest: digest, diffID: diffID}, nil
}

// blobLayer is a gzipped layer held in memory with both of its hashes.
type blobLayer struct {
	gz             []byte
	digest, diffID v1.Hash
}

var _ v1.Layer = (*blobLayer)(nil)

func (l *blobLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *blobLayer) Size() (int64, error)     { return int64(len(l.gz)), nil }
func (l *blobLayer) MediaType() (types.MediaType, error) {
	return types.DockerLayer, nil
}
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.gz))
}
