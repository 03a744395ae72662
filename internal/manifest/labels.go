package manifest

import (
	"encoding/json"
	"fmt"
)

// Label keys docker/metadata-action writes into every child's config.
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelCreated  = "org.opencontainers.image.created"
)

// Provenance is what an image's config labels say it was built as.
type Provenance struct {
	// Version is the metadata-action version label, e.g. v4.2.1-cpu-whisper.
	Version string `json:"version,omitempty"`
	// Revision is the commit the image was built from.
	Revision string `json:"revision,omitempty"`
	// Created is the build time label, as written.
	Created string `json:"created,omitempty"`
}

// Empty reports whether the config carried none of the labels.
func (p Provenance) Empty() bool { return p.Version == "" && p.Revision == "" }

// String is "v4.2.1-cpu-whisper, commit 1a2b3c4".
func (p Provenance) String() string {
	switch {
	case p.Version != "" && p.Revision != "":
		return fmt.Sprintf("%s, commit %s", p.Version, short7(p.Revision))
	case p.Version != "":
		return p.Version
	case p.Revision != "":
		return "commit " + short7(p.Revision)
	}
	return ""
}

func short7(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// ConfigProvenance reads the metadata-action labels of an image config.
func ConfigProvenance(config []byte) (Provenance, error) {
	var c struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return Provenance{}, fmt.Errorf("reading labels from image config: %w", err)
	}
	l := c.Config.Labels
	return Provenance{Version: l[LabelVersion], Revision: l[LabelRevision], Created: l[LabelCreated]}, nil
}

// MaxConfigBytes bounds a config blob read into memory (to learn a child's
// platform or labels), wherever it is read. Real configs are kilobytes; a
// larger one is not a config.
const MaxConfigBytes = 8 << 20
