package repair

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// lastOutcome is the audit log's only outcome line, checked to close the
// only intent.
func lastOutcome(t *testing.T, path string) AuditEntry {
	t.Helper()
	lines := auditLines(t, path)
	if len(lines) != 2 || lines[0].Event != EventIntent || lines[1].Event != EventOutcome || lines[0].ID != lines[1].ID {
		t.Fatalf("audit lines %+v, want one intent and its outcome", lines)
	}
	return lines[1]
}

// A tag write that reached the registry, whose answer was lost (the
// connection dropped after the registry acted), is reported and logged as
// moved: the log never claims less than what happened.
func TestTagWriteThatLandedIsLoggedAsMoved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	w.incident(t)
	release, sha, latest := tagNames(w)
	p := w.plan(t, w.incidentReport(), "quay")
	if p.Tags[1].Tag != sha || !p.Tags[1].Pending() {
		t.Fatalf("plan tags %+v, want the sha tag second and pending", p.Tags)
	}
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPut}, Kinds: []testreg.Kind{testreg.KindManifest}, PathContains: "/manifests/" + sha},
		Effect: testreg.EffectLand})

	r, err := Execute(context.Background(), w.c, p, WithAudit(w.audit))
	if err == nil {
		t.Fatal("Execute succeeded although the sha tag write never got an answer")
	}
	landed := slices.ContainsFunc(proxy.Arrivals(), func(a testreg.Arrival) bool { return a.Effect == testreg.EffectLand })
	if !landed {
		t.Fatal("the fault never fired")
	}
	if got := resolve(t, w.quay, quayPath, sha); got != p.ListDigest {
		t.Fatalf("the registry has %s -> %q; the write should have landed", sha, got)
	}
	if want := []string{release, sha}; !slices.Equal(r.TagsMoved, want) || len(r.TagsUnknown) != 0 {
		t.Errorf("result: moved %v, unknown %v; want %v", r.TagsMoved, r.TagsUnknown, want)
	}
	out := lastOutcome(t, w.audit)
	if out.Result != ResultFailed || !slices.Equal(out.TagsMoved, []string{release, sha}) || !slices.Equal(out.TagsNotMoved, []string{latest}) {
		t.Errorf("outcome line: result %s, moved %v, not moved %v; want %s and %s moved, %s not", out.Result, out.TagsMoved, out.TagsNotMoved, release, sha, latest)
	}
}

// A cancel while a tag write is in flight lets that write finish, starts
// no other, and the result and the log say exactly which tag moved.
func TestCancelDuringTagStepStartsNoFurtherWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proxy := w.proxyQuay(t)
	w.incident(t)
	release, sha, latest := tagNames(w)
	p := w.plan(t, w.incidentReport(), "quay")
	isTagPut := func(a testreg.Arrival, tag string) bool {
		return a.Method == http.MethodPut && a.Kind == testreg.KindManifest && a.Path == "/v2/"+quayPath+"/manifests/"+tag
	}
	// The first tag write is held long enough for the cancel to land
	// while it is on the wire.
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPut}, PathContains: "/manifests/" + release},
		Effect: testreg.EffectDelay, Delay: 500 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if slices.ContainsFunc(proxy.Arrivals(), func(a testreg.Arrival) bool { return isTagPut(a, release) }) {
				cancel()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	r, err := Execute(ctx, w.c, p, WithAudit(w.audit))
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want the cancellation", err)
	}
	if got := resolve(t, w.quay, quayPath, release); got != p.ListDigest {
		t.Errorf("the write in flight at cancel was cut off: %s -> %q", release, got)
	}
	for _, tag := range []string{sha, latest} {
		if slices.ContainsFunc(proxy.Arrivals(), func(a testreg.Arrival) bool { return isTagPut(a, tag) }) {
			t.Errorf("a write of %s started after the cancel", tag)
		}
	}
	if !slices.Equal(r.TagsMoved, []string{release}) {
		t.Errorf("result moved %v, want [%s]", r.TagsMoved, release)
	}
	out := lastOutcome(t, w.audit)
	if !slices.Equal(out.TagsMoved, []string{release}) || !slices.Equal(out.TagsNotMoved, []string{sha, latest}) {
		t.Errorf("outcome line: moved %v, not moved %v", out.TagsMoved, out.TagsNotMoved)
	}
}

// Reconcile reads back the tags of an intent left without an outcome,
// appends what moved, leaves settled and live intents alone, and keeps an
// intent open while its registry cannot be read.
func TestReconcileOpenIntents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.incident(t)
	release, sha, latest := tagNames(w)
	w.publishOther(t, []string{"v4.2.1" + testSuffix, latest}, 21)
	p := w.plan(t, w.incidentReport(), "quay")
	oldLatest := resolve(t, w.quay, quayPath, latest)
	done := w.execute(t, p) // a settled intent: must not be reconciled

	// A run killed after moving release and sha: its intent, and no
	// outcome. latest was never written (put it back where it was).
	if err := w.quay.Tag(context.Background(), quayPath, latest, oldLatest); err != nil {
		t.Fatal(err)
	}
	log := auditLog{path: w.audit, user: "crashed", host: "elsewhere"}
	killed := log.intent("killed0000000001", p)
	killed.PID = 0
	// A run still going on this host (this very process).
	live := log.intent("live000000000001", p)
	live.Host, _ = os.Hostname()
	live.PID = os.Getpid()
	// A run against a registry that no longer answers.
	gone := log.intent("gone000000000001", p)
	gone.PID, gone.Repo = 0, "127.0.0.1:1/"+quayPath
	for _, e := range []AuditEntry{killed, live, gone} {
		if err := AppendAudit(w.audit, e); err != nil {
			t.Fatal(err)
		}
	}

	recs, err := Reconcile(context.Background(), w.c, WithAudit(w.audit), withUser("next"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Intent.ID != killed.ID || recs[1].Intent.ID != gone.ID {
		t.Fatalf("reconciled %+v, want the killed and the gone intents (not %s, not the live one)", recs, done.AuditID)
	}
	line := recs[0].Line
	if line == nil || recs[0].Err != nil {
		t.Fatalf("killed intent: line %v, err %v", line, recs[0].Err)
	}
	if line.Event != EventReconciled || line.ID != killed.ID || line.Result != ResultInterrupted || line.User != "next" ||
		!slices.Equal(line.TagsMoved, []string{release, sha}) || !slices.Equal(line.TagsNotMoved, []string{latest}) {
		t.Errorf("reconciled line %+v; want %s and %s moved, %s not", line, release, sha, latest)
	}
	if recs[1].Line != nil || recs[1].Err == nil {
		t.Errorf("gone intent: line %+v, err %v; want no line and the reason", recs[1].Line, recs[1].Err)
	}
	lines := auditLines(t, w.audit)
	if n := len(lines); n != 6 || lines[5].Event != EventReconciled || lines[5].ID != killed.ID {
		t.Fatalf("audit after reconcile: %+v", lines)
	}

	// Once reconciled, an intent is settled: the next run only retries
	// the one it could not read.
	recs, err = Reconcile(context.Background(), w.c, WithAudit(w.audit))
	if err != nil || len(recs) != 1 || recs[0].Intent.ID != gone.ID {
		t.Errorf("second reconcile: %+v, %v; want only the gone intent again", recs, err)
	}
	if n := len(auditLines(t, w.audit)); n != 6 {
		t.Errorf("second reconcile appended %d lines", n-6)
	}
}

// No audit log yet is nothing to reconcile.
func TestReconcileWithoutLog(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	recs, err := Reconcile(context.Background(), w.c, WithAudit(w.audit))
	if err != nil || len(recs) != 0 {
		t.Errorf("Reconcile = %v, %v", recs, err)
	}
}

// repair --all executes many re-merges at once, each appending its own
// lines to one log: every line must come out whole and none lost, also
// when lines are long (a write of a large line is where an unlocked
// writer or a buffered one would split).
func TestConcurrentAppendsKeepLinesWhole(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const writers, each = 16, 20
	long := strings.Repeat("x", 16<<10)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := AuditEntry{Event: EventOutcome, ID: fmt.Sprintf("%d-%d", w, i), Error: long, Backend: "-cpu-kokoro"}
				if err := appendAudit(path, e, i%8 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, e := range auditLines(t, path) {
		if seen[e.ID] || e.Error != long {
			t.Fatalf("line %s repeated or cut (error field %d bytes)", e.ID, len(e.Error))
		}
		seen[e.ID] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d lines in the log, want %d", len(seen), writers*each)
	}
}
