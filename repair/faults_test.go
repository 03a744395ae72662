package repair

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"go.uber.org/goleak"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// crossWorld puts quay behind a fault proxy and seeds a backend whose amd64
// child survives in the anchor repo (mount) and whose arm64 child survives
// only in Docker Hub (bytes must move), so a quay repair exercises every
// kind of write.
func crossWorld(t *testing.T) (*world, *testreg.FaultProxy, *release.BackendReport) {
	t.Helper()
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	push(t, w.quay.Repo(anchorPath), w.amd)
	for _, f := range []fixture{w.amd, w.arm} {
		push(t, w.hub.Repo(hubPath), f)
	}
	p, m := release.CellPresent, release.CellMissing
	b := w.report(release.VerdictRepairable, map[string][2]release.CellState{
		w.anchor(): {p, m}, w.quayTarget(): {m, m}, w.hubTarget(): {p, p},
	})
	return w, proxy, b
}

// inspectVerdict runs inspect over the mini world with the digests known.
func (w *world) inspectVerdict(t *testing.T) *release.BackendReport {
	t.Helper()
	m, err := release.ParseMatrix("matrix.yml", scenario.MatrixYAML([]scenario.Backend{{Suffix: testSuffix, Name: "kokoro", Kind: release.KindMultiarch}}))
	if err != nil {
		t.Fatal(err)
	}
	d := &inspect.DigestsDir{Digests: map[string]map[string]string{testSuffix: {"amd64": w.amd.digest, "arm64": w.arm.digest}}}
	rep, err := inspect.Run(context.Background(), w.rel, inspect.WithConfig(w.cfg), inspect.WithMatrix(m), inspect.WithDigests(d), inspect.WithClient(w.c))
	if err != nil {
		t.Fatal(err)
	}
	return rep.Backends[0]
}

// The target failing at each write step in turn: the release is left as it
// was (only the tags reported moved have moved), and once the registry
// behaves a second run completes the repair and inspect says ok.
func TestEachFailingStepThenSecondRunCompletes(t *testing.T) {
	t.Parallel()
	uploads := []testreg.Kind{testreg.KindUpload}
	manifests := []testreg.Kind{testreg.KindManifest}
	tests := []struct {
		name      string
		match     func(w *world, p *Plan) testreg.Match
		wantMoved int
	}{
		{"blob upload or mount", func(w *world, p *Plan) testreg.Match { return testreg.Match{Kinds: uploads} }, 0},
		{"blob bytes", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{http.MethodPatch, http.MethodPut}, Kinds: uploads}
		}, 0},
		{"child manifest put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{http.MethodPut}, Kinds: manifests, PathContains: w.arm.digest}
		}, 0},
		{"list put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{http.MethodPut}, Kinds: manifests, PathContains: p.ListDigest}
		}, 0},
		{"first tag put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{http.MethodPut}, Kinds: manifests, PathContains: "/manifests/" + p.Tags[0].Tag}
		}, 0},
		{"second tag put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{http.MethodPut}, Kinds: manifests, PathContains: "/manifests/" + p.Tags[1].Tag}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, proxy, b := crossWorld(t)
			p := w.plan(t, b, "quay")
			if p.Legs[1].Kind != SourceCopy {
				t.Fatalf("arm64 source %s, want a copy across registries", p.Legs[1].Kind)
			}
			before := map[string]string{}
			for _, tm := range p.Tags {
				before[tm.Tag] = resolve(t, w.quay, quayPath, tm.Tag)
			}
			proxy.Add(testreg.Fault{Match: tt.match(w, p), Effect: testreg.EffectStatus, Status: http.StatusInternalServerError})
			r, err := Execute(context.Background(), w.c, p, WithAudit(w.audit))
			if err == nil {
				t.Fatal("Execute succeeded through a failing registry")
			}
			if proxy.Stats().Status(http.StatusInternalServerError) == 0 {
				t.Fatalf("the fault never fired:\n%s", proxy.Stats())
			}
			if len(r.TagsMoved) != tt.wantMoved {
				t.Errorf("moved %v, want %d tags", r.TagsMoved, tt.wantMoved)
			}
			moved := map[string]bool{}
			for _, tag := range r.TagsMoved {
				moved[tag] = true
			}
			for _, tm := range p.Tags {
				got := resolve(t, w.quay, quayPath, tm.Tag)
				switch {
				case moved[tm.Tag] && got != p.ListDigest:
					t.Errorf("tag %s reported moved but points to %q", tm.Tag, got)
				case !moved[tm.Tag] && got != before[tm.Tag]:
					t.Errorf("tag %s moved from %q to %q after a failure", tm.Tag, before[tm.Tag], got)
				}
			}

			proxy.Clear()
			again := w.execute(t, w.plan(t, b, "quay"))
			if !again.Verified {
				t.Fatalf("second run: %+v", again)
			}
			w.execute(t, w.plan(t, b, "dockerhub"))
			if got := w.inspectVerdict(t); got.Verdict != release.VerdictOK {
				t.Errorf("inspect after the second run: %s; problems %q", got.Verdict, got.Problems)
			}
		})
	}
}

// Cancelling while blob bytes are on the wire returns the cancellation,
// moves no tag and leaves no goroutine behind.
func TestExecuteCancelledMidCopyLeavesNoGoroutine(t *testing.T) {
	w, proxy, b := crossWorld(t)
	p := w.plan(t, b, "quay")
	release, _, _ := tagNames(w)
	// Bytes of the cross-registry copy are held at the proxy until the
	// client gives up.
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPatch, http.MethodPut}, Kinds: []testreg.Kind{testreg.KindUpload}},
		Effect: testreg.EffectDelay, Delay: time.Minute})
	ignore := goleak.IgnoreCurrent()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, a := range proxy.Arrivals() {
				if a.Kind == testreg.KindUpload && (a.Method == http.MethodPatch || a.Method == http.MethodPut) {
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	r, err := Execute(ctx, w.c, p, WithAudit(w.audit))
	<-done
	if err == nil || !(errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "context canceled")) {
		t.Fatalf("Execute = %v, want the cancellation", err)
	}
	if len(r.TagsMoved) != 0 || r.ListWritten {
		t.Errorf("moved %v, list written %v after cancel", r.TagsMoved, r.ListWritten)
	}
	w.c.Close()
	if err := proxy.Close(); err != nil {
		t.Error(err)
	}
	goleak.VerifyNone(t, ignore)
	if got := resolve(t, w.quay, quayPath, release); got != "" {
		t.Errorf("release tag moved to %s after cancel", got)
	}
}

// A source serving bytes that do not hash to the child's digest is never
// copied: the plan passes it over for the next repo holding the child, and
// says so; with no other source it fails naming the mismatch. Nothing is
// written either way.
func TestPlanRefusesChildBytesNotMatchingDigest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	w.incident(t)
	before := snapshots(t, w)
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodGet}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: w.arm.digest},
		Effect: testreg.EffectStatus, Status: http.StatusOK, Body: string(w.amd.raw)})
	p, err := NewPlan(context.Background(), w.c, w.cfg, w.rel, w.incidentReport(), "quay")
	if err != nil || p.Refusal != "" {
		t.Fatalf("NewPlan = %v, refusal %q; want the arm64 child from docker.io", err, p.Refusal)
	}
	if arm := p.Legs[1]; arm.Source != w.hubTarget() || arm.Kind != SourceCopy || len(arm.Skipped) != 1 || !strings.Contains(arm.Skipped[0], "does not match") {
		t.Errorf("arm64 leg %+v, want copied from docker.io after passing over the anchor", arm.Skipped)
	}
	if !strings.Contains(p.String(), "passed over") {
		t.Errorf("plan does not say a source was passed over:\n%s", p)
	}
	only := w.incidentReport()
	only.Legs[1].Cells[w.hubTarget()] = release.Cell{State: release.CellMissing}
	// A client of its own: w.c now knows the child's bytes (read from
	// docker.io) and would not ask the anchor for them again.
	fresh := registry.New(registry.Options{Retries: -1, Keychain: authn.NewMultiKeychain()})
	defer fresh.Close()
	_, err = NewPlan(context.Background(), fresh, w.cfg, w.rel, only, "quay")
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("NewPlan = %v, want a digest mismatch error", err)
	}
	if n := writes(proxy.Stats()); n != 0 {
		t.Errorf("%d write requests sent", n)
	}
	if after := snapshots(t, w); !reflect.DeepEqual(before, after) {
		t.Error("registry storage changed")
	}
}
