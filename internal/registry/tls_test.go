package registry

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/go-skynet/remerge/internal/loopreg"
)

// TestTLSHTTP2: the client speaks to distribution over TLS, with a
// self-signed certificate the test trusts (Options.RootCAs, verification
// on), and HTTP/2 is what it negotiates: quay.io's per-connection limits
// apply to HTTP/2, a path loopback HTTP/1.1 never takes. Reads (HEAD, GET
// of a manifest, the tag list, a blob) and a push go that way.
func TestTLSHTTP2(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// The registry's own handler, served a second time over TLS: seeding
	// uses the plain listener, the client under test only the TLS one.
	var app http.Handler
	reg, err := loopreg.New(loopreg.WithHandler(func(h http.Handler) http.Handler { app = h; return h }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	random, err := loopreg.NewImage(amd64, loopreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := reg.PutImage(ctx, "p/a", random)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Tag(ctx, "p/a", "v1", img.Digest); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	protos := map[string]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.Proto]++
		mu.Unlock()
		app.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// httptest's certificate names example.com: the client asks for that
	// name (not a loopback one, which is plain HTTP only) and is dialled
	// to the server.
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	addr := srv.Listener.Addr().String()
	var d net.Dialer
	c := newClient(t, Options{RootCAs: roots, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}})

	ref, err := c.Reference("example.com/p/a:v1")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := c.Head(ctx, ref)
	if err != nil {
		t.Fatalf("HEAD over TLS: %v", err)
	}
	if desc.Digest.String() != img.Digest {
		t.Errorf("HEAD digest %s, want %s", desc.Digest, img.Digest)
	}
	if _, _, err := c.Manifest(ctx, ref); err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	if tags, err := c.Tags(ctx, ref.Context()); err != nil || len(tags) != 1 {
		t.Fatalf("tags over TLS: %v, %v", tags, err)
	}
	if ok, err := c.BlobExists(ctx, ref.Context(), img.Config); err != nil || !ok {
		t.Fatalf("blob over TLS: %v, %v", ok, err)
	}
	// A push: upload sessions and their Locations over the same protocol.
	other, err := loopreg.NewImage(amd64, loopreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := c.Reference("example.com/p/b:v2")
	if err := remote.Write(dst, other, c.RemoteOptions(ctx)...); err != nil {
		t.Fatalf("push over TLS: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(protos) != 1 || protos["HTTP/2.0"] == 0 {
		t.Errorf("protocols seen by the server: %v, want HTTP/2.0 only", protos)
	}

	// Without the test's CA the same registry is refused: verification
	// is on.
	plain := newClient(t, Options{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}})
	if _, err := plain.Head(ctx, ref); err == nil {
		t.Error("HEAD without trusting the certificate succeeded, want a verification error")
	}
}
