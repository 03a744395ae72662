package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// TestSpentQuotaCLI: the dockerhub target sits behind a proxy answering as
// Docker Hub once the anonymous pull quota is spent. inspect and repair
// --all both end with exit 1 and name the limit and the way out on stderr;
// the JSON report carries the registry's budget; repair re-merges quay
// (whose child was reaped) and writes nothing into the registry it could
// not read; at most 50 requests reach it after its first refusal.
func TestSpentQuotaCLI(t *testing.T) {
	r := seedRelease(t)
	if err := r.reg.Reap(context.Background(), r.quay, r.arm64.Digest); err != nil {
		t.Fatal(err)
	}
	hub := testreg.StartFaultProxy(t, r.reg.Host)
	hub.SetPullQuota(testreg.DockerHubQuota(0))
	cfg := filepath.Join(t.TempDir(), "remerge.yaml")
	body, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(body), r.reg.Repo(r.hub), hub.Repo(r.hub), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append([]string{"--config", cfg, "--release", "v1.0.0", "--run", "42"}, extra...)
	}
	want := fmt.Sprintf("%s pull limit reached (0 of 100 per 6 h left): log in with `docker login %s`, or wait", hub.Host(), hub.Host())

	code, stdout, stderr := runArgs(t, append([]string{"inspect"}, args("--format", "json")...)...)
	if code != exitBroken || !strings.Contains(stderr, want) {
		t.Errorf("inspect: exit %d, stderr %q; want exit %d naming %q", code, stderr, exitBroken, want)
	}
	var rep release.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("inspect --format json: %v\n%s", err, stdout)
	}
	b := rep.Registries[hub.Host()]
	if !b.QuotaSpent || b.PullsLeft != 0 || b.PullsLimit != 100 || b.WindowSeconds != 21600 || b.Message != want {
		t.Errorf("registries[%s] = %+v", hub.Host(), b)
	}
	for _, be := range rep.Backends {
		if ts := be.Targets["dockerhub"]; ts != nil {
			for tag, st := range ts.Tags {
				if st.State != release.TagUnknown {
					t.Errorf("%s in dockerhub: %s, want unknown", tag, st.State)
				}
			}
		}
	}
	if n := hub.AfterQuotaRefusal(); n > 50 {
		t.Errorf("inspect sent %d requests to the registry after its first quota refusal, want at most 50", n)
	}

	hub.ResetStats()
	code, stdout, stderr = runArgs(t, append([]string{"repair", "--all", "--yes", "--audit", filepath.Join(t.TempDir(), "audit.jsonl")}, args()...)...)
	if code != exitBroken || !strings.Contains(stderr, want) {
		t.Errorf("repair: exit %d, stderr %q; want exit %d naming %q\n%s", code, stderr, exitBroken, want, stdout)
	}
	st := hub.Stats()
	for _, m := range []string{http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if n := st.Requests(m, ""); n > 0 {
			t.Errorf("repair sent %d %s requests to the registry whose quota is spent", n, m)
		}
	}
	if ok, err := r.reg.ManifestExists(context.Background(), r.quay, r.arm64.Digest); err != nil || !ok {
		t.Errorf("quay was not re-merged (arm64 child present: %v, %v)", ok, err)
	}
}
