package registry

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Host is the registry a repo (as written in the config) lives on, in the
// words a person types to `docker login`: "quay.io", "127.0.0.1:5000",
// and "docker.io" for Docker Hub however it is written (docker.io/x,
// index.docker.io/x, or a bare x/y). It is the one answer to "which
// registry is this repo on?": the failure summary groups by it, and a
// re-merge mounts (rather than copies) between repos of one host.
func Host(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil {
		host, _, _ := strings.Cut(repo, "/")
		return host
	}
	if h := r.RegistryStr(); h != name.DefaultRegistry {
		return h
	}
	return "docker.io"
}
