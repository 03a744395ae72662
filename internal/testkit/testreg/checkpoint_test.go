package testreg

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A checkpoint brings back what a run removed (a reaped manifest) and
// drops what it added (a tag), so a destructive benchmark can run twice
// on one seeded state.
func TestCheckpointRestores(t *testing.T) {
	ctx := context.Background()
	r := Start(t)
	img, err := r.PushImage(ctx, "a/b", v1.Platform{OS: "linux", Architecture: "amd64"}, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	restore := r.Checkpoint()
	if err := r.Reap(ctx, "a/b", img.Digest); err != nil {
		t.Fatal(err)
	}
	if err := r.Tag(ctx, "a/b", "later", img.Digest); err == nil {
		t.Fatal("tagging a reaped manifest worked")
	}
	other, err := r.PushImage(ctx, "a/b", v1.Platform{OS: "linux", Architecture: "arm64"}, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	restore()
	for d, want := range map[string]bool{img.Digest: true, other.Digest: false} {
		if ok, err := r.ManifestExists(ctx, "a/b", d); err != nil || ok != want {
			t.Errorf("manifest %s after restore: %v (%v), want %v", d, ok, err, want)
		}
	}
}
