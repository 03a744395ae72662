package repair_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

// TestRepairRequests counts, at the registries, what planning and
// executing the re-merge of a known morning-after release costs: the plan
// reuses what the inspection just saw, and the execute keeps one fresh
// check of each tag and child. The counts are exact for this release, so
// a change that adds requests (or drops a guard) shows here.
func TestRepairRequests(t *testing.T) {
	ctx := context.Background()
	backends := []scenario.Backend{
		{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped},
		{Suffix: "-cpu-whisper", Kind: release.KindMultiarch, Fate: scenario.HubSkipped},
		{Suffix: "-gpu-vllm", Kind: release.KindSingle, Fate: scenario.Reaped},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	defer c.Close()
	rep, err := inspect.Run(ctx, f.Release, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithDigests(f.Digests), inspect.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	opts := []repair.Option{repair.WithAudit(filepath.Join(t.TempDir(), "audit.jsonl")), repair.WithTagLister(&published.TagLister{}), repair.WithSession(&repair.Session{}), repair.WithFreshReport(true)}
	reset := func() {
		f.Quay.ResetStats()
		f.Hub.ResetStats()
	}
	count := func() int { return f.Quay.Stats().Total() + f.Hub.Stats().Total() }
	var plans []*repair.Plan
	reset()
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictRepairable {
			t.Fatalf("%s: %s, want repairable", b.Suffix, b.Verdict)
		}
		for _, tg := range f.Config.Targets {
			p, err := repair.NewPlan(ctx, c, f.Config, f.Release, b, tg.Name, opts...)
			if err != nil || p.Refusal != "" {
				t.Fatalf("%s into %s: %v %s", b.Suffix, tg.Name, err, p.Refusal)
			}
			plans = append(plans, p)
		}
	}
	planned := count()
	t.Logf("plan: %d requests\nquay %s\nhub %s", planned, f.Quay.Stats(), f.Hub.Stats())
	// Per pair, each leg's child comes from its source and its 3 blobs
	// are looked up in the target once; each of the 3 tags is HEADed.
	// A child's manifest and config are read once for both targets (5
	// distinct children: 5 + 5 GETs); the second target's plan asks its
	// source whether it still holds the child (a HEAD) and takes the bytes
	// the client already has. The stale latest is judged from the report
	// (no GET of its list, no labels read again), and no leg's cell is
	// asked again. 6 pairs, 10 legs: 5 + 5 GETs, 30 blob HEADs, 18 tag
	// HEADs and 5 source HEADs.
	wantKinds(t, "plan", map[string]int{"GET manifest": 5, "GET blob": 5, "HEAD blob": 30, "HEAD manifest": 18 + 5}, f.Quay, f.Hub)
	reset()
	for _, p := range plans {
		if _, err := repair.Execute(ctx, c, p, opts...); err != nil {
			t.Fatalf("%s into %s: %v", p.Suffix, p.Target, err)
		}
	}
	executed := count()
	t.Logf("execute: %d requests\nquay %s\nhub %s", executed, f.Quay.Stats(), f.Hub.Stats())
	// Four pairs write (the Docker Hub merges of the two reaped backends
	// are whole): 4 children put into quay (both legs of the reaped
	// multi-arch, the reaped leg of the other, the single), 4 lists, 12 tags, each tag
	// HEADed once before its write (the guard) and once after (read
	// back), each of the 7 children of a written list HEADed once before
	// the list; the plan's blob check stands (it is seconds old); one
	// ping per registry for the whole run.
	wantKinds(t, "execute", map[string]int{"PUT manifest": 4 + 4 + 12, "HEAD manifest": 12 + 12 + 7, "GET ping": 2}, f.Quay, f.Hub)
}

// wantKinds checks the requests both registries saw, by "METHOD kind",
// and that they saw nothing else.
func wantKinds(t *testing.T, phase string, want map[string]int, regs ...*testreg.Registry) {
	t.Helper()
	total := 0
	for k, n := range want {
		method, kind, _ := strings.Cut(k, " ")
		got := 0
		for _, r := range regs {
			got += r.Stats().Requests(method, testreg.Kind(kind))
		}
		if got != n {
			t.Errorf("%s: %d %s requests, want %d", phase, got, k, n)
		}
		total += n
	}
	got := 0
	for _, r := range regs {
		got += r.Stats().Total()
	}
	if got != total {
		t.Errorf("%s: %d requests in all, want %d", phase, got, total)
	}
}
