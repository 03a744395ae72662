package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestInspectUnderSpentQuota: docker.io's registry answers as Docker Hub
// does once the anonymous pull quota is spent (429 TOOMANYREQUESTS on
// every manifest request, HEADs included), from the start or after a few
// pulls. inspect ends; at most 50 requests reach that registry after its
// first refusal; every verdict is the clean run's or unknown; no cell or
// tag there is called missing; the report names the limit and the way out.
func TestInspectUnderSpentQuota(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		left int
	}{{"spent before", 0}, {"runs out midway", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pw := newProxiedWorld(t, 11)
			clean := pw.clean(t)
			pw.hub.SetPullQuota(testreg.DockerHubQuota(tc.left))
			c := faultClient(t, registry.Options{})
			rep, err := inspect.Run(context.Background(), pw.seeded.Release, inspect.WithConfig(pw.cfg), inspect.WithMatrix(pw.matrix),
				inspect.WithDigests(pw.digests), inspect.WithClient(c))
			if err != nil {
				t.Fatal(err)
			}
			pulls, refused := pw.hub.QuotaCounts()
			after := pw.hub.AfterQuotaRefusal()
			t.Logf("%d pulls, %d refused for the quota, %d requests after the first refusal; %+v", pulls, refused, after, rep.Summary)
			if refused == 0 {
				t.Fatal("the quota refused nothing: the test proves nothing")
			}
			if after > 50 {
				t.Errorf("%d requests reached the registry after its first quota refusal, want at most 50", after)
			}
			b, ok := rep.Registries[pw.hub.Host()]
			want := "pull limit reached (0 of 100 per 6 h left): log in with `docker login " + pw.hub.Host() + "`, or wait"
			if !ok || !b.QuotaSpent || b.PullsLeft != 0 || b.PullsLimit != 100 || b.WindowSeconds != 21600 || !strings.Contains(b.Message, want) {
				t.Errorf("registries[%s] = %+v (present %v), want quota spent, 0 of 100 per 21600 s, message %q", pw.hub.Host(), b, ok, want)
			}
			if got := rep.SpentQuotas(); len(got) != 1 || !strings.Contains(got[0], want) {
				t.Errorf("SpentQuotas() = %q", got)
			}
			if !strings.Contains(strings.Join(rep.Problems, "\n"), want) {
				t.Errorf("release problems do not name the quota: %q", rep.Problems)
			}
			assertCleanOrUnknown(t, clean, rep, pw.hub.Host())
		})
	}
}

// assertCleanOrUnknown: each verdict is the clean run's or unknown, and
// nothing on host is judged missing (or otherwise) unless the clean run
// judged it the same.
func assertCleanOrUnknown(t *testing.T, clean, rep *release.Report, host string) {
	t.Helper()
	want := byName(clean)
	unknown := 0
	for _, b := range rep.Backends {
		w := want[b.Suffix]
		if b.Verdict == release.VerdictUnknown {
			unknown++
		} else if b.Verdict != w.Verdict {
			t.Errorf("%s: verdict %s, clean run %s", b.Suffix, b.Verdict, w.Verdict)
		}
		for i, l := range b.Legs {
			for repo, c := range l.Cells {
				if !strings.HasPrefix(repo, host+"/") || c.State == release.CellUnknown {
					continue
				}
				for crepo, cc := range w.Legs[i].Cells {
					if strings.TrimPrefix(crepo, hostOfRepo(crepo)) == strings.TrimPrefix(repo, host) && cc.State != c.State {
						t.Errorf("%s %s in %s: %s, clean run %s", b.Suffix, l.PlatformTag, repo, c.State, cc.State)
					}
				}
			}
		}
		for name, ts := range b.Targets {
			if !strings.HasPrefix(ts.Repo, host+"/") {
				continue
			}
			for tag, st := range ts.Tags {
				if st.State != release.TagUnknown && st.State != w.Targets[name].Tags[tag].State {
					t.Errorf("%s %s in %s: %s (%s), clean run %s", b.Suffix, tag, name, st.State, st.Error, w.Targets[name].Tags[tag].State)
				}
			}
		}
	}
	if unknown == 0 {
		t.Error("no verdict is unknown although a registry stopped answering")
	}
}

func hostOfRepo(repo string) string {
	host, _, _ := strings.Cut(repo, "/")
	return host
}
