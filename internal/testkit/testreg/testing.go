package testreg

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Start runs a registry for one test and stops it in the test's cleanup.
// It fails the test at once if the registry cannot start.
func Start(tb testing.TB, opts ...Option) *Registry {
	tb.Helper()
	r, err := New(opts...)
	if err != nil {
		tb.Fatalf("starting test registry: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("stopping test registry: %v", err)
		}
	})
	return r
}

// StartFaultProxy runs a fault proxy in front of upstream ("host:port") for
// one test and stops it in the test's cleanup.
func StartFaultProxy(tb testing.TB, upstream string, opts ...ProxyOption) *FaultProxy {
	tb.Helper()
	p, err := NewFaultProxy(upstream, opts...)
	if err != nil {
		tb.Fatalf("starting fault proxy: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("stopping fault proxy: %v", err)
		}
	})
	return p
}

// PlatformImages makes one small image per platform (os/arch[/variant]),
// in order, for a test that pushes a build per platform (PushAttestedBuilds).
func PlatformImages(tb testing.TB, plats ...string) []v1.Image {
	tb.Helper()
	var out []v1.Image
	for _, s := range plats {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			tb.Fatal(err)
		}
		img, err := NewImage(*p, ImageOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, img)
	}
	return out
}
