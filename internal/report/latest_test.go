package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// latest-<suffix> in quay already holds a newer release (v4.3.0): it is
// fine for users. The gate passes it, and the table's latest marker must
// agree (issue 18, item 7: on 4da49be the table flagged it L!, reading
// only the tag state; the gate and the TUI read the Impact prose).
func TestLatestOnANewerReleaseIsNotFlagged(t *testing.T) {
	t.Parallel()
	const suffix = "-cpu-ahead"
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: suffix, Kind: release.KindMultiarch, Fate: scenario.Healthy}}, testreg.ImageOptions{})
	ctx := context.Background()
	var imgs []testreg.Image
	for i, arch := range []string{"amd64", "arm64"} {
		img, err := f.Quay.PushImage(ctx, scenario.QuayTarget, v1.Platform{OS: "linux", Architecture: arch}, testreg.ImageOptions{Seed: 4300 + int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	if _, err := f.Quay.PublishList(ctx, scenario.QuayTarget, []string{"v4.3.0" + suffix, "latest" + suffix}, imgs...); err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	rel := f.Release
	rel.Run = "" // a healthy backend's anchors were deleted by its merge
	rep, err := inspect.Run(ctx, rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDigests(f.Digests))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	st := b.Targets["quay"].Tags["latest"+suffix]
	if st.Newer == "" || st.UserImpact != "" {
		t.Fatalf("latest in quay: %s, newer %q, impact %q; want on a newer release, fine for users", st.State, st.Newer, st.UserImpact)
	}
	g, err := release.ParseGate("stale-latest")
	if err != nil {
		t.Fatal(err)
	}
	if fails := g.Check(rep); len(fails) > 0 {
		t.Errorf("gate: %q", fails)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rep, 160); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, suffix) && strings.Contains(line, "L!") {
			t.Errorf("table flags a latest that moved on to a newer release:\n%s", out.String())
		}
	}
}
