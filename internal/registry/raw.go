package registry

import "github.com/google/go-containerregistry/pkg/v1/types"

// RawManifest is a remote.Taggable over manifest bytes as they are: what
// every put of a list or a child goes through (a re-merge, the demo's
// pipeline writer), since re-marshalling a parsed manifest would change
// its digest.
type RawManifest struct {
	Raw  []byte
	Type string
}

// RawManifest returns the bytes unchanged.
func (m RawManifest) RawManifest() ([]byte, error) { return m.Raw, nil }

// MediaType is the media type the bytes are put under.
func (m RawManifest) MediaType() (types.MediaType, error) { return types.MediaType(m.Type), nil }
