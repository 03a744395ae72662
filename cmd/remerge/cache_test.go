package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// The disk cache end to end, on a registry that counts pulls as Docker
// Hub does (it says so with ratelimit-limit; where nothing is counted a
// tag is read with one GET, cached or not, as cheap as its HEAD): a second
// inspect reads no manifest it already knows (every tag and digest is
// HEADed, none GET, but the one referrers tag go-containerregistry's probe
// GETs itself); --no-cache reads them all again; a child reaped from quay
// is missing there though its bytes are on disk.
func TestInspectCache(t *testing.T) {
	r := seedRelease(t, testreg.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Ratelimit-Limit", "100000;w=21600")
			next.ServeHTTP(w, req)
		})
	}))
	t.Setenv(cas.DirEnv, t.TempDir())
	inspectGets := func(extra ...string) (int, *release.Report) {
		t.Helper()
		r.reg.ResetStats()
		_, stdout, stderr := runArgs(t, append([]string{"inspect"}, r.args(append([]string{"--format", "json"}, extra...)...)...)...)
		var rep release.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("inspect: %v; stderr %q", err, stderr)
		}
		return r.reg.Stats().Requests(http.MethodGet, testreg.KindManifest), &rep
	}
	first, _ := inspectGets()
	second, rep := inspectGets()
	if rep.Summary.OK != 2 {
		t.Fatalf("second inspect: %+v, want both ok", rep.Summary)
	}
	if second != 1 {
		t.Errorf("second inspect sent %d manifest GETs, want 1 (the referrers probe); the first sent %d", second, first)
	}
	if noCache, _ := inspectGets("--no-cache"); noCache != first {
		t.Errorf("--no-cache sent %d manifest GETs, want %d as the first run did", noCache, first)
	}
	if err := r.reg.Reap(context.Background(), r.quay, r.arm64.Digest); err != nil {
		t.Fatal(err)
	}
	_, rep = inspectGets()
	for _, b := range rep.Backends {
		for _, l := range b.Legs {
			if l.Digest != r.arm64.Digest {
				continue
			}
			if c := l.Cells[r.reg.Repo(r.quay)]; c.State != release.CellMissing {
				t.Errorf("reaped child in quay with its bytes cached: %s, want missing", c.State)
			}
			if b.Verdict != release.VerdictRepairable {
				t.Errorf("%s: %s, want repairable", b.Suffix, b.Verdict)
			}
		}
	}
}
