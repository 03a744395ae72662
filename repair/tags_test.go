package repair

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// Tags: latest only forward; a tag on a complete image of other digests
// needs force; a tag already complete with the same children stays.
func TestPlanTags(t *testing.T) {
	ctx := context.Background()
	release, _, latest := tagNames(&world{cfg: release.DefaultConfig(), rel: release.Release{Ref: "v4.2.2", SHA: "abc1234"}})
	tests := []struct {
		name   string
		seed   func(t *testing.T, w *world)
		force  bool
		check  func(t *testing.T, p *Plan)
		noop   bool
		refuse string
	}{
		{"newer release holds latest", func(t *testing.T, w *world) {
			w.publishOther(t, []string{"v4.3.0" + testSuffix, latest}, 11)
		}, false, func(t *testing.T, p *Plan) {
			if tm := findTag(p, latest); !strings.Contains(tm.Skip, "v4.3.0"+testSuffix) {
				t.Errorf("latest: %+v, want skipped for the newer release", tm)
			}
			if tm := findTag(p, release); !tm.Pending() {
				t.Errorf("release tag %+v not pending", tm)
			}
		}, false, ""},
		{"older release holds latest", func(t *testing.T, w *world) {
			w.publishOther(t, []string{"v4.2.1" + testSuffix, latest}, 12)
		}, false, func(t *testing.T, p *Plan) {
			if tm := findTag(p, latest); !tm.Pending() || tm.From == "" {
				t.Errorf("latest %+v, want moved forward from the older list", tm)
			}
		}, false, ""},
		{"release tag on other complete image", func(t *testing.T, w *world) {
			w.publishOther(t, []string{release}, 13)
		}, false, nil, false, "re-run with force"},
		{"release tag on other complete image, forced", func(t *testing.T, w *world) {
			w.publishOther(t, []string{release}, 13)
		}, true, func(t *testing.T, p *Plan) {
			if tm := findTag(p, release); !tm.Pending() || !p.Force {
				t.Errorf("forced release tag %+v not pending", tm)
			}
		}, false, ""},
		{"already published with the same children, other bytes", func(t *testing.T, w *world) {
			for _, f := range []fixture{w.amd, w.arm} {
				push(t, w.quay.Repo(quayPath), f)
			}
			imgs := []testreg.Image{{Digest: w.arm.digest, Raw: w.arm.raw, Size: int64(len(w.arm.raw)), MediaType: manifest.DockerManifest}, {Digest: w.amd.digest, Raw: w.amd.raw, Size: int64(len(w.amd.raw)), MediaType: manifest.DockerManifest}}
			imgs[0].Platform.OS, imgs[0].Platform.Architecture = "linux", "arm64"
			imgs[1].Platform.OS, imgs[1].Platform.Architecture = "linux", "amd64"
			tags := w.cfg.ReleaseTags(w.rel, testSuffix)
			var names []string
			for _, tr := range tags {
				names = append(names, tr.Tag)
			}
			if _, err := w.quay.PublishList(ctx, quayPath, names, imgs...); err != nil {
				t.Fatal(err)
			}
		}, false, func(t *testing.T, p *Plan) {
			for _, tm := range p.Tags {
				if !strings.Contains(tm.Skip, "same children") {
					t.Errorf("tag %+v, want left alone", tm)
				}
			}
		}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.incident(t)
			tt.seed(t, w)
			p := w.plan(t, w.incidentReport(), "quay", WithForce(tt.force))
			if tt.refuse != "" {
				if !strings.Contains(p.Refusal, tt.refuse) {
					t.Errorf("refusal %q, want %q", p.Refusal, tt.refuse)
				}
				return
			}
			if p.Refusal != "" || p.NoOp != tt.noop {
				t.Fatalf("plan (noop want %v):\n%s", tt.noop, p)
			}
			tt.check(t, p)
		})
	}
}

// publishOther publishes a complete list of two other (random) children
// into the quay target under tags.
func (w *world) publishOther(t *testing.T, tags []string, seed int64) {
	t.Helper()
	ctx := context.Background()
	var imgs []testreg.Image
	for i, arch := range []string{"amd64", "arm64"} {
		img, err := w.quay.PushImage(ctx, quayPath, platform(arch), testreg.ImageOptions{Seed: seed*10 + int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	if _, err := w.quay.PublishList(ctx, quayPath, tags, imgs...); err != nil {
		t.Fatal(err)
	}
}

func findTag(p *Plan, tag string) TagMove {
	i := slices.IndexFunc(p.Tags, func(tm TagMove) bool { return tm.Tag == tag })
	if i < 0 {
		return TagMove{}
	}
	return p.Tags[i]
}

// A list naming the right children but misstating their sizes cannot be
// pulled: inspect calls it broken, and repair, judging by the same model,
// replaces it, with or without force (issue: "already complete with the
// same children", exit 0, nothing done).
func TestPlanReplacesAListLyingAboutSizes(t *testing.T) {
	for _, force := range []bool{false, true} {
		w := newWorld(t)
		w.incident(t)
		ctx := context.Background()
		for _, f := range []fixture{w.amd, w.arm} {
			push(t, w.quay.Repo(quayPath), f)
		}
		var children []manifest.Child
		for _, f := range []fixture{w.amd, w.arm} {
			children = append(children, manifest.Child{Digest: f.digest, MediaType: manifest.DockerManifest, Raw: f.raw, Platform: ocispec.Platform{OS: "linux", Architecture: f.arch}})
		}
		raw, mt, _, err := manifest.Merge(children, manifest.DefaultMergeOptions())
		if err != nil {
			t.Fatal(err)
		}
		lying := strings.Replace(string(raw), fmt.Sprintf(`"size": %d`, len(w.amd.raw)), fmt.Sprintf(`"size": %d`, len(w.amd.raw)+7), 1)
		release, _, _ := tagNames(w)
		if err := w.quay.PutManifest(ctx, quayPath, release, []byte(lying), mt); err != nil {
			t.Fatal(err)
		}
		p := w.plan(t, w.incidentReport(), "quay", WithForce(force))
		if p.Refusal != "" || p.NoOp {
			t.Fatalf("force %v: plan refused or no-op:\n%s", force, p)
		}
		if tm := findTag(p, release); !tm.Pending() || tm.From != manifest.DigestOf([]byte(lying)) {
			t.Errorf("force %v: release tag %+v, want the lying list replaced", force, tm)
		}
	}
}
