package repair_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

// TestRepairWholeRelease runs the morning-after workflow on the demo
// release: inspect, re-merge every repairable backend into every target,
// inspect again. Every repairable backend ends ok with exactly the list CI
// would have published; the others are refused and their tags untouched.
func TestRepairWholeRelease(t *testing.T) {
	ctx := context.Background()
	f := scenariotest.Start(t, scenario.Demo(), testreg.ImageOptions{})
	seeded, m, d, quay, hub := f.Seeded, f.Matrix, f.Digests, f.Quay, f.Hub
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	inspectAll := func() *release.Report {
		t.Helper()
		rep, err := inspect.Run(ctx, seeded.Release, inspect.WithConfig(seeded.Config), inspect.WithMatrix(m), inspect.WithDigests(d), inspect.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	before := inspectAll()
	tagsBefore := resolveAll(t, quay, hub, seeded)
	audit := t.TempDir() + "/audit.jsonl"
	for _, b := range before.Backends {
		for _, tg := range seeded.Config.Targets {
			p, err := repair.NewPlan(ctx, c, seeded.Config, seeded.Release, b, tg.Name)
			if err != nil {
				t.Fatalf("%s into %s: plan: %v", b.Suffix, tg.Name, err)
			}
			if b.Kind == release.KindDarwin || b.Verdict != release.VerdictRepairable && b.Verdict != release.VerdictOK {
				if p.Refusal == "" {
					t.Errorf("%s (%s) into %s: not refused", b.Suffix, b.Verdict, tg.Name)
				}
				// A conflict is quay's release tag (the fate): the report
				// flags that target alone, and the refusal into Docker Hub
				// names quay rather than claiming its own tag conflicts.
				if b.Verdict == release.VerdictConflict {
					own := b.Targets[tg.Name].Conflict
					want := map[string]string{"quay": "conflict: the release tag already points", "dockerhub": "conflict in quay: the release tag there"}[tg.Name]
					if own != (tg.Name == "quay") || !strings.HasPrefix(p.Refusal, want) {
						t.Errorf("%s into %s: conflict flag %v, refusal %q; want the flag on quay only and a refusal starting %q", b.Suffix, tg.Name, own, p.Refusal, want)
					}
				}
				continue
			}
			if p.Refusal != "" {
				t.Errorf("%s (%s) into %s: refused: %s", b.Suffix, b.Verdict, tg.Name, p.Refusal)
				continue
			}
			if b.Verdict == release.VerdictOK && !p.NoOp {
				t.Errorf("%s is ok but the plan into %s is not a no-op:\n%s", b.Suffix, tg.Name, p)
			}
			// A healthy backend is left as CI wrote it (a bare manifest by
			// an older buildx stays); what remerge writes must be CI's.
			if !p.NoOp && p.ListDigest != seeded.Lists[b.Suffix] {
				t.Errorf("%s into %s: list %s, want CI's %s", b.Suffix, tg.Name, p.ListDigest, seeded.Lists[b.Suffix])
			}
			if _, err := repair.Execute(ctx, c, p, repair.WithAudit(audit)); err != nil {
				t.Errorf("%s into %s: %v", b.Suffix, tg.Name, err)
			}
		}
	}
	after := inspectAll()
	tagsAfter := resolveAll(t, quay, hub, seeded)
	for i, b := range after.Backends {
		was := before.Backends[i].Verdict
		switch {
		case was == release.VerdictRepairable || was == release.VerdictOK:
			if b.Verdict != release.VerdictOK {
				t.Errorf("%s: %s before, %s after; problems %q", b.Suffix, was, b.Verdict, b.Problems)
			}
		default:
			if b.Verdict != was {
				t.Errorf("%s: %s before, %s after", b.Suffix, was, b.Verdict)
			}
			for k, v := range tagsBefore[b.Suffix] {
				if tagsAfter[b.Suffix][k] != v {
					t.Errorf("%s (%s): tag %s moved from %q to %q", b.Suffix, was, k, v, tagsAfter[b.Suffix][k])
				}
			}
		}
	}
}

// resolveAll reads every release tag of every backend in both targets.
func resolveAll(t *testing.T, quay, hub *testreg.Registry, s *scenario.Seeded) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, b := range s.Backends {
		out[b.Suffix] = map[string]string{}
		for _, tr := range s.Config.ReleaseTags(s.Release, b.Suffix) {
			for name, r := range map[string]struct {
				reg  *testreg.Registry
				repo string
			}{"quay": {quay, scenario.QuayTarget}, "dockerhub": {hub, scenario.HubTarget}} {
				d, _ := r.reg.Resolve(context.Background(), r.repo, tr.Tag)
				out[b.Suffix][name+" "+tr.Tag] = d
			}
		}
	}
	return out
}
