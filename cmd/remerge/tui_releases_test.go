package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// TestReleasesSideBySide: the TUI's service for several --release shows
// one row per release of the recipe's image, its events arrive after one
// joined skeleton and name those rows, and a re-merge started from a row
// heals that row's release only.
func TestReleasesSideBySide(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := newRecipeWorld(t)
	w.build(ctx, t, "v2.1.0", "") // merge failed in both
	w.build(ctx, t, "v2.2.0", "")
	w.merge(ctx, t, "v2.2.0", w.ghcr, w.hub) // healthy

	cfg, err := release.LoadConfig(w.config)
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{})
	defer c.Close()
	rs := &app.Releases{}
	for _, ref := range []string{"v2.1.0", "v2.2.0"} {
		d, err := inspect.ReadRecipeDigestsDir(w.digests[ref])
		if err != nil {
			t.Fatal(err)
		}
		rs.Each = append(rs.Each, &app.Service{Release: release.Release{Ref: ref}, Config: cfg, Matrix: cfg.RecipeMatrix(), Digests: d, Client: c,
			Audit: filepath.Join(t.TempDir(), "audit.jsonl")})
	}
	var events []inspect.Event
	rep, err := rs.Inspect(ctx, "", func(ev inspect.Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]release.Verdict{}
	for _, b := range rep.Backends {
		verdicts[b.Suffix] = b.Verdict
	}
	want := map[string]release.Verdict{"acme/app@v2.1.0": release.VerdictRepairable, "acme/app@v2.2.0": release.VerdictOK}
	if len(verdicts) != 2 || verdicts["acme/app@v2.1.0"] != want["acme/app@v2.1.0"] || verdicts["acme/app@v2.2.0"] != want["acme/app@v2.2.0"] {
		t.Fatalf("rows %v, want %v", verdicts, want)
	}
	if start, ok := events[0].(inspect.StartEvent); !ok || len(start.Report.Backends) != 2 {
		t.Fatalf("first event %T, want one StartEvent with both rows", events[0])
	}
	for _, ev := range events[1:] {
		switch e := ev.(type) {
		case inspect.StartEvent:
			t.Errorf("a second StartEvent")
		case inspect.BackendEvent:
			if _, ok := want[e.Backend.Suffix]; !ok {
				t.Errorf("event names row %q", e.Backend.Suffix)
			}
		}
	}
	var row *release.BackendReport
	for _, b := range rep.Backends {
		if b.Suffix == "acme/app@v2.1.0" {
			row = b
		}
	}
	if p, err := rs.Plan(ctx, "", row); err != nil || !p.Runnable || p.Suffix != row.Suffix {
		t.Fatalf("plan: %+v %v", p, err)
	}
	if o, err := rs.Repair(ctx, "", row, nil); err != nil || !o.OK {
		t.Fatalf("repair: %+v %v", o, err)
	}
	if b := w.inspect(t, "v2.1.0"); b.Verdict != release.VerdictOK {
		t.Errorf("v2.1.0 after its row's re-merge: %s %q", b.Verdict, b.Problems)
	}
}

// TestSeveralReleasesOnlyInTheTUI: inspect and repair take one release;
// the TUI pairs --digests with --release or takes none.
func TestSeveralReleasesOnlyInTheTUI(t *testing.T) {
	for _, args := range [][]string{
		{"inspect", "--release", "v1.0.0", "--release", "v1.1.0"},
		{"repair", "--all", "--release", "v1.0.0", "--release", "v1.1.0"},
		{"tui", "--release", "v1.0.0", "--release", "v1.1.0", "--digests", "d"},
		{"tui", "--release", "v1.0.0", "--release", "v1.1.0", "--run", "123"},
	} {
		if code, _, stderr := runArgs(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, exitUsage)
		}
	}
}
