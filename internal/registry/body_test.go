package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testreg.IgnoreRegistryGoroutines)
}

// TestStalledBodyTimesOut: headers and a few bytes arrive, then the server
// goes quiet. The read must fail with a timeout error instead of hanging.
// (A raw HTTP server, not a registry: the fault proxy stalls before headers.)
func TestStalledBodyTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"schemaVersion":`)
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, Options{Timeout: 200 * time.Millisecond})
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodGet, srv.URL+"/v2/a/blobs/sha256:00", nil)
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var timeout *BodyTimeoutError
	if !errors.As(err, &timeout) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("ReadAll = %v, want a BodyTimeoutError", err)
	}
	if string(b) != `{"schemaVersion":` {
		t.Errorf("read %q before the stall", b)
	}
}

// TestSlowConsumerIsNotAStall: time spent between reads is the caller's,
// not the server's, and must not trip the idle timeout.
func TestSlowConsumerIsNotAStall(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 10))
	}))
	defer srv.Close()
	c := newClient(t, Options{Timeout: 50 * time.Millisecond})
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodGet, srv.URL+"/v2/", nil)
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(150 * time.Millisecond) // a slow consumer, three timeouts long
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 10 {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
}

// TestWaitingForRetryAfterHonoursCancel: a caller cancelled while its host
// is paused gets its context error back, without waiting out the pause.
func TestWaitingForRetryAfterHonoursCancel(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{})
	c.transport.host("127.0.0.1:9").pause(time.Now().Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:9/v2/", nil)
	_, err := c.transport.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip while paused = %v, want context.Canceled", err)
	}
}
