package registry

import "testing"

func TestHost(t *testing.T) {
	t.Parallel()
	for repo, want := range map[string]string{
		"quay.io/go-skynet/ci-cache":               "quay.io",
		"docker.io/localai/localai-backends":       "docker.io",
		"index.docker.io/localai/localai-backends": "docker.io",
		"localai/localai-backends":                 "docker.io", // Docker Hub's default, not a host called "localai"
		"127.0.0.1:5000/go-skynet/ci-cache":        "127.0.0.1:5000",
		"localhost:5000/x":                         "localhost:5000",
	} {
		if got := Host(repo); got != want {
			t.Errorf("Host(%q) = %q, want %q", repo, got, want)
		}
	}
}
