package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/app"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// The TUI executes the plan its confirmation showed, not a fresh one: when
// the world moves between the two (here latest moves to another image),
// the re-merge stops at its execute-time check and says so, instead of
// quietly running a plan nobody saw.
func TestServiceExecutesTheShownPlan(t *testing.T) {
	ctx := context.Background()
	f, svc, rep := inspectedKokoro(t, scenario.Reaped)
	b := rep.Backends[0]
	shown, err := svc.Plan(ctx, rep.Release.Run, b)
	if err != nil || !shown.Runnable {
		t.Fatalf("plan %+v, %v", shown, err)
	}
	// Meanwhile someone points quay's latest at another image.
	other, err := f.Quay.PushImage(ctx, scenario.QuayTarget, platformOf("amd64"), testreg.ImageOptions{Seed: 77})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Quay.PublishSingle(ctx, scenario.QuayTarget, []string{"latest-cpu-kokoro"}, other); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Repair(ctx, rep.Release.Run, b, nil)
	if err == nil || !strings.Contains(err.Error()+out.Text, "changed since the plan") {
		t.Fatalf("repair of a plan the world moved away from: %v\n%s", err, out.Text)
	}
	if d, _ := f.Quay.Resolve(ctx, scenario.QuayTarget, "latest-cpu-kokoro"); d != other.Digest {
		t.Errorf("latest moved to %s; it must stay on %s", d, other.Digest)
	}
}

func platformOf(arch string) v1.Platform { return v1.Platform{OS: "linux", Architecture: arch} }

// A failed target does not stop the others: the TUI's re-merge runs
// through repair.Batch as the CLI's does. Here quay's shown plan is
// overtaken (latest moves) and fails its execute-time check, while the
// Docker Hub plan, shown in the same confirmation, still publishes.
func TestServiceRepairCarriesOnPastAFailedTarget(t *testing.T) {
	ctx := context.Background()
	f, svc, rep := inspectedKokoro(t, scenario.HubSkipped)
	b := rep.Backends[0]
	if shown, err := svc.Plan(ctx, rep.Release.Run, b); err != nil || !shown.Runnable {
		t.Fatalf("plan %+v, %v", shown, err)
	}
	other, err := f.Quay.PushImage(ctx, scenario.QuayTarget, platformOf("amd64"), testreg.ImageOptions{Seed: 78})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Quay.PublishSingle(ctx, scenario.QuayTarget, []string{"latest-cpu-kokoro"}, other); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Repair(ctx, rep.Release.Run, b, nil)
	if err == nil || out.OK || !strings.Contains(err.Error(), "into quay") {
		t.Fatalf("repair: ok %v, err %v; want quay's failure reported\n%s", out.OK, err, out.Text)
	}
	if d, err := f.Hub.Resolve(ctx, scenario.HubTarget, f.Release.Ref+"-cpu-kokoro"); err != nil || d != f.Lists["-cpu-kokoro"] {
		t.Errorf("docker.io release tag -> %s (%v), want the re-merged %s: a failed quay must not stop it", d, err, f.Lists["-cpu-kokoro"])
	}
}

// inspectedKokoro starts a release of one multi-arch backend with fate,
// a Service over it auditing to a temporary file, and its first report.
func inspectedKokoro(t *testing.T, fate scenario.Fate) (*scenariotest.Fixture, *app.Service, *release.Report) {
	t.Helper()
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: fate}}, testreg.ImageOptions{})
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	svc := &app.Service{Release: f.Release, Config: f.Config, Matrix: f.Matrix, Digests: f.Digests, Client: c, Audit: filepath.Join(t.TempDir(), "audit.jsonl")}
	rep, err := svc.Inspect(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, svc, rep
}
