package repair

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// The incident: children reaped from the quay target, alive in the anchor
// repo on the same registry, one layer link lost too. The repair mounts
// what is missing and moves zero layer bytes.
func TestRepairFromAnchorMovesNoBytes(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	ctx := context.Background()
	if err := w.quay.DropBlob(ctx, quayPath, w.amd.layerDigest()); err != nil {
		t.Fatal(err)
	}
	p := w.plan(t, w.incidentReport(), "quay")
	if p.Refusal != "" || p.NoOp {
		t.Fatalf("plan refused or no-op:\n%s", p)
	}
	for _, l := range p.Legs {
		if l.Kind != SourceMount || l.Source != w.anchor() {
			t.Errorf("%s: source %s (%s), want a mount from the anchor", l.PlatformTag, l.Source, l.Kind)
		}
	}
	if n, _ := p.Legs[0].MissingBlobs(); n != 1 {
		t.Errorf("amd64 plan misses %d blobs, want the 1 dropped layer", n)
	}
	w.quay.ResetStats()
	var events []Event
	r := w.execute(t, p, WithEvents(func(e Event) { events = append(events, e) }))

	stats := w.quay.Stats()
	if up := stats.Uploaded("", testreg.KindUpload); up != 0 {
		t.Errorf("%d blob bytes uploaded, want 0 (mount only)\n%s", up, stats)
	}
	if !reflect.DeepEqual(r.Mounted, []string{w.amd.layerDigest()}) || len(r.Copied) != 0 || r.BytesCopied != 0 {
		t.Errorf("mounted %v copied %v (%d bytes); want only the dropped layer mounted", r.Mounted, r.Copied, r.BytesCopied)
	}
	ci := w.ciDigest(t)
	if p.ListDigest != ci {
		t.Errorf("list digest %s, want buildx's %s", p.ListDigest, ci)
	}
	release, sha, latest := tagNames(w)
	for _, tag := range []string{release, sha, latest} {
		if got := resolve(t, w.quay, quayPath, tag); got != ci {
			t.Errorf("tag %s -> %q, want %s", tag, got, ci)
		}
	}
	for _, f := range []fixture{w.amd, w.arm} {
		if ok, err := w.quay.ManifestExists(ctx, quayPath, f.digest); err != nil || !ok {
			t.Errorf("%s child does not resolve in the target (%v)", f.arch, err)
		}
	}
	if !r.Verified || !r.ListWritten || r.Outcome != OutcomePublished || !r.Unsigned() {
		t.Errorf("result %+v", r)
	}
	if want := "cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 " + w.quayTarget() + "@" + ci; r.CosignCommand() != want {
		t.Errorf("cosign command %q, want %q", r.CosignCommand(), want)
	}
	var steps int
	for _, e := range events {
		if s, ok := e.(StepEvent); ok {
			steps++
			if s.Index != steps || s.Total < s.Index {
				t.Errorf("step event %+v out of order", s)
			}
		}
	}
	if steps == 0 {
		t.Error("no step events")
	}
	lines := auditLines(t, w.audit)
	if len(lines) != 2 {
		t.Fatalf("audit lines %+v, want an intent and an outcome", lines)
	}
	in, out := lines[0], lines[1]
	if in.Event != EventIntent || in.ID == "" || in.ID != r.AuditID || len(in.Moves) != 3 || in.Moves[0].From != "" || in.Moves[0].To != ci ||
		len(in.Children) != 2 || in.Children[1].Source != w.anchor() || in.User != "tester" {
		t.Errorf("intent line %+v", in)
	}
	if out.Event != EventOutcome || out.ID != in.ID || out.Result != ResultOK || out.Outcome != OutcomePublished || out.ListDigest != ci ||
		out.User != "tester" || len(out.Children) != 2 || len(out.Tags) != 3 || len(out.TagsMoved) != 3 || len(out.TagsNotMoved) != 0 {
		t.Errorf("outcome line %+v", out)
	}
}

// A child alive only on the other registry is copied across, bytes and
// all, and the list digest is the same in both targets.
func TestRepairCopiesAcrossRegistries(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, f := range []fixture{w.amd, w.arm} {
		push(t, w.hub.Repo(hubPath), f)
	}
	push(t, w.quay.Repo(anchorPath), w.amd)
	p, m := release.CellPresent, release.CellMissing
	b := w.report(release.VerdictRepairable, map[string][2]release.CellState{
		w.anchor(): {p, m}, w.quayTarget(): {m, m}, w.hubTarget(): {p, p},
	})
	plan := w.plan(t, b, "quay")
	if plan.Legs[0].Kind != SourceMount || plan.Legs[1].Kind != SourceCopy || plan.Legs[1].Source != w.hubTarget() {
		t.Fatalf("sources: %s", plan)
	}
	var last BytesEvent
	r := w.execute(t, plan, WithEvents(func(e Event) {
		if be, ok := e.(BytesEvent); ok && be.Leg == "arm64" {
			last = be
		}
	}))
	wantBytes := int64(len(w.arm.config) + len(w.arm.layer))
	if r.BytesCopied != wantBytes || len(r.Copied) != 2 {
		t.Errorf("copied %v (%d bytes), want arm64's config and layer (%d bytes)", r.Copied, r.BytesCopied, wantBytes)
	}
	if last.Done != wantBytes || last.Total != wantBytes {
		t.Errorf("last arm64 bytes event %+v, want %d of %d", last, wantBytes, wantBytes)
	}
	for _, f := range []fixture{w.amd, w.arm} {
		if ok, err := w.quay.ManifestExists(ctx, quayPath, f.digest); err != nil || !ok {
			t.Errorf("%s child does not resolve in the target (%v)", f.arch, err)
		}
	}
	// The Docker Hub target holds the children; its merge gives the same
	// digest as the quay one.
	hubPlan := w.plan(t, b, "dockerhub")
	w.execute(t, hubPlan)
	release, _, _ := tagNames(w)
	q, h := resolve(t, w.quay, quayPath, release), resolve(t, w.hub, hubPath, release)
	if ci := w.ciDigest(t); q != ci || h != ci {
		t.Errorf("release tag: quay %s, docker hub %s, want both %s", q, h, ci)
	}
}

// A second run on a healthy backend does nothing and says so, even with
// the report taken before the repair; NewPlan alone writes nothing.
func TestSecondRunIsNoOpAndDryRunWritesNothing(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	b := w.incidentReport()
	before := snapshots(t, w)
	w.quay.ResetStats()
	p := w.plan(t, b, "quay")
	if got := snapshots(t, w); !reflect.DeepEqual(before, got) {
		t.Error("NewPlan changed registry storage")
	}
	if n := writes(w.quay.Stats()); n != 0 {
		t.Errorf("NewPlan sent %d write requests\n%s", n, w.quay.Stats())
	}
	if !strings.Contains(string(p.ListJSON()), `"schemaVersion": 2`) || !strings.Contains(p.String(), p.ListDigest) {
		t.Errorf("dry run output:\n%s\n%s", p, p.ListJSON())
	}
	w.execute(t, p)

	again := w.plan(t, b, "quay")
	if !again.NoOp || !strings.Contains(again.String(), "nothing to do: already healthy") {
		t.Fatalf("second plan is not a no-op:\n%s", again)
	}
	w.quay.ResetStats()
	r := w.execute(t, again)
	if !r.NoOp || r.Outcome != OutcomeNothing || r.Unsigned() {
		t.Errorf("second execute: %+v", r)
	}
	if n := writes(w.quay.Stats()); n != 0 {
		t.Errorf("no-op execute sent %d write requests", n)
	}
	// Executing the first (now stale) plan again is harmless too.
	w.quay.ResetStats()
	r = w.execute(t, p)
	if len(r.TagsMoved) != 0 || len(r.Manifests) != 0 {
		t.Errorf("re-running a done plan moved %v, put %v", r.TagsMoved, r.Manifests)
	}
	// intent+outcome, a lone outcome for the no-op, intent+outcome.
	lines := auditLines(t, w.audit)
	if len(lines) != 5 || lines[2].Event != EventOutcome || lines[2].Result != ResultNothing || lines[2].Outcome != OutcomeNothing {
		t.Fatalf("audit: %+v", lines)
	}
	if last := lines[4]; last.Result != ResultOK || len(last.TagsMoved) != 0 || len(last.Tags) != 3 {
		t.Errorf("re-running a done plan logged %+v; want no tag moved, three in place", last)
	}
}

func snapshots(t *testing.T, w *world) [2]map[string]string {
	t.Helper()
	var out [2]map[string]string
	for i, r := range []*testreg.Registry{w.quay, w.hub} {
		s, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func writes(s testreg.Stats) int {
	return s.Requests(http.MethodPut, "") + s.Requests(http.MethodPost, "") + s.Requests(http.MethodPatch, "") + s.Requests(http.MethodDelete, "")
}

// A registry that refuses a write part-way leaves every tag as it was (or,
// failing during the tag step, says which tags moved).
func TestFailureLeavesTags(t *testing.T) {
	tests := []struct {
		name      string
		match     func(w *world, p *Plan) testreg.Match
		wantMoved int
	}{
		{"child manifest put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{"PUT"}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: w.arm.digest}
		}, 0},
		{"list put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{"PUT"}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: p.ListDigest}
		}, 0},
		{"second tag put", func(w *world, p *Plan) testreg.Match {
			return testreg.Match{Methods: []string{"PUT"}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: p.Tags[1].Tag}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			proxy := w.proxyQuay(t)
			w.incident(t)
			release, sha, latest := tagNames(w)
			// An older release published earlier: latest points at it.
			w.publishOther(t, []string{"v4.2.1" + testSuffix, latest}, 21)
			p := w.plan(t, w.incidentReport(), "quay")
			before := map[string]string{}
			for _, tag := range []string{release, sha, latest} {
				before[tag] = resolve(t, w.quay, quayPath, tag)
			}
			proxy.Add(testreg.Fault{Match: tt.match(w, p), Effect: testreg.EffectStatus, Status: http.StatusForbidden})
			r, err := Execute(context.Background(), w.c, p, WithAudit(w.audit))
			if err == nil {
				t.Fatal("Execute succeeded through a refusing registry")
			}
			if len(r.TagsMoved) != tt.wantMoved {
				t.Errorf("moved %v, want %d tags", r.TagsMoved, tt.wantMoved)
			}
			for _, tag := range []string{release, sha, latest}[tt.wantMoved:] {
				if got := resolve(t, w.quay, quayPath, tag); got != before[tag] {
					t.Errorf("tag %s moved from %q to %q", tag, before[tag], got)
				}
			}
			if tt.wantMoved > 0 && !strings.Contains(err.Error(), "tags already moved: "+release) {
				t.Errorf("error does not say which tags moved: %v", err)
			}
			if r.ListWritten != (tt.wantMoved > 0) {
				t.Errorf("list written = %v after failing at %s", r.ListWritten, tt.name)
			}
			lines := auditLines(t, w.audit)
			if len(lines) != 2 || lines[0].Event != EventIntent || lines[1].Event != EventOutcome || lines[1].Result != ResultFailed ||
				!strings.HasPrefix(lines[1].Outcome, "failed: ") || lines[1].Error == "" {
				t.Fatalf("audit %+v", lines)
			}
			if got := lines[1].TagsMoved; len(got) != tt.wantMoved || len(lines[1].TagsNotMoved) != 3-tt.wantMoved {
				t.Errorf("audit says moved %v, not moved %v; want %d moved", got, lines[1].TagsNotMoved, tt.wantMoved)
			}
		})
	}
}

// Cancelling between steps leaves the tags as they were.
func TestCancelBeforeTags(t *testing.T) {
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	w.incident(t)
	p := w.plan(t, w.incidentReport(), "quay")
	// Events reach fn from their own goroutine (a step never waits for
	// a screen), so the list's PUT is held at the proxy until the cancel
	// sent from fn has landed: the cancel always comes between the steps.
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPut}, Kinds: []testreg.Kind{testreg.KindManifest},
		PathContains: "/manifests/" + p.ListDigest}, Effect: testreg.EffectStall})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := Execute(ctx, w.c, p, WithAudit(w.audit), WithEvents(func(e Event) {
		if s, ok := e.(StepEvent); ok && strings.HasPrefix(s.Text, "put list") {
			cancel()
		}
	}))
	if err == nil || !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("err = %v, want a cancellation", err)
	}
	release, sha, latest := tagNames(w)
	for _, tag := range []string{release, sha, latest} {
		if got := resolve(t, w.quay, quayPath, tag); got != "" {
			t.Errorf("tag %s moved to %s after cancel", tag, got)
		}
	}
	if len(r.TagsMoved) != 0 {
		t.Errorf("moved %v", r.TagsMoved)
	}
}

// Refusals: what must never be re-merged, or not without force.
func TestPlanRefuses(t *testing.T) {
	w := newWorld(t)
	w.incident(t)
	p, m := release.CellPresent, release.CellMissing
	nowhere := w.report(release.VerdictRepairable, map[string][2]release.CellState{
		w.anchor(): {p, m}, w.quayTarget(): {m, m}, w.hubTarget(): {p, m},
	})
	// The arm64 child is also gone from the anchor and Docker Hub.
	ctx := context.Background()
	for _, reap := range []struct {
		reg  *testreg.Registry
		repo string
	}{{w.quay, anchorPath}, {w.hub, hubPath}} {
		if err := reap.reg.Reap(ctx, reap.repo, w.arm.digest); err != nil {
			t.Fatal(err)
		}
	}
	darwin := w.incidentReport()
	darwin.Kind = release.KindDarwin
	tests := []struct {
		name string
		b    *release.BackendReport
		want string
	}{
		{"darwin", darwin, "darwin"},
		{"unrepairable", w.report(release.VerdictUnrepairable, nil), "rebuild"},
		{"unknown", w.report(release.VerdictUnknown, nil), "unknown"},
		{"conflict", w.report(release.VerdictConflict, nil), "force"},
		{"leg present nowhere", nowhere, "arm64 child"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := w.plan(t, tt.b, "quay")
			if !strings.Contains(plan.Refusal, tt.want) {
				t.Errorf("refusal %q, want it to mention %q", plan.Refusal, tt.want)
			}
			if _, err := Execute(ctx, w.c, plan, WithAudit(w.audit)); err == nil {
				t.Error("Execute ran a refused plan")
			}
		})
	}
	if _, err := NewPlan(ctx, w.c, w.cfg, w.rel, w.incidentReport(), "nope"); err == nil {
		t.Error("unknown target is not an error")
	}
}

// A mount the registry declines falls back to an upload of the bytes.
func TestFailedMountFallsBackToUpload(t *testing.T) {
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	w.incident(t)
	if err := w.quay.DropBlob(context.Background(), quayPath, w.amd.layerDigest()); err != nil {
		t.Fatal(err)
	}
	p := w.plan(t, w.incidentReport(), "quay")
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{"POST"}, Kinds: []testreg.Kind{testreg.KindUpload}}, Effect: testreg.EffectStatus, Status: http.StatusInternalServerError, Times: 1})
	r := w.execute(t, p)
	if len(r.Mounted) != 0 || !reflect.DeepEqual(r.Copied, []string{w.amd.layerDigest()}) || r.BytesCopied != int64(len(w.amd.layer)) {
		t.Errorf("mounted %v, copied %v (%d bytes); want the layer uploaded after the refused mount", r.Mounted, r.Copied, r.BytesCopied)
	}
	if proxy.Stats().Status(http.StatusInternalServerError) != 1 {
		t.Errorf("the mount was not refused once:\n%s", proxy.Stats())
	}
	release, _, _ := tagNames(w)
	if got := resolve(t, w.quay, quayPath, release); got != w.ciDigest(t) {
		t.Errorf("release tag -> %s", got)
	}
}
