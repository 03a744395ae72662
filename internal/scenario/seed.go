package scenario

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/go-skynet/remerge/internal/loopreg"
	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/pipeline"
	"github.com/go-skynet/remerge/internal/release"
)

// Repos of the seeded release: quay's target and anchor share a registry,
// as on quay.io; docker.io is the other registry.
const (
	QuayTarget = "go-skynet/local-ai-backends"
	Anchor     = "go-skynet/ci-cache"
	HubTarget  = "localai/localai-backends"
)

// Release names the seeded release, its predecessor and its runs.
type Release struct {
	Ref, PrevRef, Run, OldRun, SHA, PrevSHA string
}

// DefaultRelease is shaped like LocalAI v4.2.2.
func DefaultRelease() Release {
	return Release{Ref: "v4.2.2", PrevRef: "v4.2.1", Run: "25745181433", OldRun: "25612093377",
		SHA: "8521af145f3c9e0d2b7a61f4e5d8c0a9b1e2f3d4", PrevSHA: "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"}
}

// Steps are the pipeline's imagetools steps as the seeder runs them: the
// real buildx in tests, remerge's own writer (proven equal to it) in the
// demo and the benchmark.
type Steps struct {
	// Current is buildx as LocalAI runs it (--prefer-index, the default).
	Current pipeline.Pipeline
	// Legacy is buildx < 0.15 (or --prefer-index=false): a single source
	// is published as itself.
	Legacy pipeline.Pipeline
}

// Seeded is what Seed made: the config and files to point remerge at, and
// the truth to assert against.
type Seeded struct {
	Release    release.Release
	Config     release.Config
	Dir        string // holds matrix, config and digests folder
	MatrixPath string
	ConfigPath string
	DigestsDir string
	Backends   []Backend
	// Images: suffix -> platform-tag -> the release's child image.
	Images map[string]map[string]loopreg.Image
	// Lists: suffix -> the digest CI's merge publishes over the release's
	// children, as the pipeline's own dry run printed it.
	Lists map[string]string
}

// Seed runs the release's pipeline into quay and hub (two running
// registries), with steps doing the imagetools work, and writes its
// matrix, config and digests folder under dir.
func Seed(ctx context.Context, dir string, quay, hub *loopreg.Registry, rel Release, backends []Backend, opt loopreg.ImageOptions, steps Steps) (*Seeded, error) {
	s := &Seeded{
		Release:  release.Release{Ref: rel.Ref, Run: rel.Run, SHA: rel.SHA},
		Dir:      dir,
		Backends: backends,
		Images:   map[string]map[string]loopreg.Image{},
		Lists:    map[string]string{},
	}
	s.Config = release.DefaultConfig()
	s.Config.Anchor = quay.Repo(Anchor)
	s.Config.Targets = []release.Target{{Name: "quay", Repo: quay.Repo(QuayTarget)}, {Name: "dockerhub", Repo: hub.Repo(HubTarget)}}
	s.MatrixPath = filepath.Join(dir, "backend-matrix.yml")
	s.ConfigPath = filepath.Join(dir, "remerge.yaml")
	s.DigestsDir = filepath.Join(dir, "digests")
	s.Config.Matrix = s.MatrixPath
	if err := os.WriteFile(s.MatrixPath, MatrixYAML(backends), 0o644); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("matrix: %s\nanchor: %s\ntargets:\n  - name: quay\n    repo: %s\n  - name: dockerhub\n    repo: %s\n",
		s.MatrixPath, s.Config.Anchor, s.Config.Targets[0].Repo, s.Config.Targets[1].Repo)
	if err := os.WriteFile(s.ConfigPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if steps.Legacy == nil {
		steps.Legacy = steps.Current
	}
	sd := &seeder{quay: quay, hub: hub, rel: rel, opt: opt, s: s, steps: steps}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, b := range backends {
		g.Go(func() error {
			if err := sd.backend(gctx, i, b); err != nil {
				return fmt.Errorf("seeding %s (%s): %w", b.Suffix, b.Fate, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}

type seeder struct {
	quay, hub *loopreg.Registry
	rel       Release
	opt       loopreg.ImageOptions
	steps     Steps
	mu        sync.Mutex
	s         *Seeded
}

// image is one leg's image.
type image struct {
	leg  Leg
	img  v1.Image
	info loopreg.Image
}

// newImages builds one image per leg, labelled as docker/metadata-action
// labels the release ref's build of the backend.
func (sd *seeder) newImages(b Backend, ref, sha string) ([]image, error) {
	var out []image
	for _, l := range b.Platforms() {
		img, err := loopreg.NewImage(v1.Platform{OS: l.OS, Architecture: l.Arch}, sd.opt)
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.Config.Labels = map[string]string{
			manifest.LabelVersion:  ref + b.Suffix,
			manifest.LabelRevision: sha,
			manifest.LabelCreated:  "2026-11-28T02:14:07Z",
		}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, err
		}
		out = append(out, image{leg: l, img: img})
	}
	return out, nil
}

// push is a build job's push: by digest only, no tag.
func push(ctx context.Context, reg *loopreg.Registry, repo string, imgs []image) error {
	for i := range imgs {
		info, err := reg.PutImage(ctx, repo, imgs[i].img)
		if err != nil {
			return err
		}
		imgs[i].info = info
	}
	return nil
}

// sources is the merge step's `$(printf 'SRC@sha256:%s ' *)` in the digests
// folder: one source repo, children in ascending hex.
func sources(repo string, imgs []image) []string {
	var out []string
	for _, im := range imgs {
		out = append(out, repo+"@"+im.info.Digest)
	}
	slices.Sort(out)
	return out
}

func (sd *seeder) tags(reg *loopreg.Registry, repo, ref, sha, suffix string, withLatest bool) []string {
	t := []string{reg.Repo(repo) + ":" + ref + suffix}
	if sha != "" {
		t = append(t, reg.Repo(repo)+":sha-"+sha[:7]+suffix)
	}
	if withLatest {
		t = append(t, reg.Repo(repo)+":latest"+suffix)
	}
	return t
}

// merge is backend_merge.yml's step for one target: imagetools create
// with the release's tags over the children in src.
func (sd *seeder) merge(ctx context.Context, b Backend, reg *loopreg.Registry, target string, src string, imgs []image, ref, sha string) error {
	return sd.stepsFor(b).Create(ctx, sd.tags(reg, target, ref, sha, b.Suffix, release.IsSemver(ref)), sources(src, imgs))
}

// stepsFor is the merge a backend's CI ran: an older buildx for one
// merged as a bare manifest.
func (sd *seeder) stepsFor(b Backend) pipeline.Pipeline {
	if b.BareManifest {
		return sd.steps.Legacy
	}
	return sd.steps.Current
}

func (sd *seeder) quayMerge(ctx context.Context, b Backend, imgs []image) error {
	// The quay step sources from ci-cache (the fix after v4.2.2).
	return sd.merge(ctx, b, sd.quay, QuayTarget, sd.quay.Repo(Anchor), imgs, sd.rel.Ref, sd.rel.SHA)
}

func (sd *seeder) hubMerge(ctx context.Context, b Backend, imgs []image) error {
	return sd.merge(ctx, b, sd.hub, HubTarget, sd.hub.Repo(HubTarget), imgs, sd.rel.Ref, sd.rel.SHA)
}

// anchor is anchor-digest-in-cache.sh: imagetools create -t
// ci-cache:keepalive-... local-ai-backends@DIGEST.
func (sd *seeder) anchor(ctx context.Context, run string, b Backend, im image) error {
	tag := sd.quay.Repo(Anchor) + ":" + release.KeepaliveTag(run, b.Suffix, im.leg.Tag)
	return sd.steps.Current.Create(ctx, []string{tag}, []string{sd.quay.Repo(QuayTarget) + "@" + im.info.Digest})
}

// unanchor deletes a keepalive tag, as the merge job does after a good merge.
func (sd *seeder) unanchor(ctx context.Context, run string, b Backend, im image) error {
	d, err := sd.quay.Resolve(ctx, Anchor, release.KeepaliveTag(run, b.Suffix, im.leg.Tag))
	if err != nil {
		return err
	}
	return sd.quay.Reap(ctx, Anchor, d)
}

// reap is quay's per-repo GC of an untagged manifest; lose also drops its
// blob links.
func reap(ctx context.Context, reg *loopreg.Registry, repo string, im image, lose bool) error {
	if err := reg.Reap(ctx, repo, im.info.Digest); err != nil {
		return err
	}
	if !lose {
		return nil
	}
	for _, blob := range append([]string{im.info.Config}, im.info.Layers...) {
		if err := reg.DropBlob(ctx, repo, blob); err != nil {
			return err
		}
	}
	return nil
}

func (sd *seeder) backend(ctx context.Context, i int, b Backend) error {
	cur, err := sd.newImages(b, sd.rel.Ref, sd.rel.SHA)
	if err != nil {
		return err
	}
	if b.Kind == release.KindDarwin {
		return sd.darwin(ctx, b, cur)
	}
	if !b.NoPrevious {
		if err := sd.previous(ctx, i, b); err != nil {
			return err
		}
	}
	if b.Fate == NeverBuilt {
		sd.record(b, cur, "")
		return nil
	}
	// The build jobs: push by digest to both targets.
	if err := push(ctx, sd.hub, HubTarget, cur); err != nil {
		return err
	}
	if err := push(ctx, sd.quay, QuayTarget, cur); err != nil {
		return err
	}
	// What CI's merge publishes over these children: the truth to check
	// a re-merge against.
	raw, err := sd.stepsFor(b).DryRun(ctx, sources(sd.hub.Repo(HubTarget), cur))
	if err != nil {
		return err
	}
	if b.Fate != Unanchored {
		for _, im := range cur {
			if err := sd.anchor(ctx, sd.rel.Run, b, im); err != nil {
				return err
			}
		}
		if err := sd.writeDigests(b, cur); err != nil {
			return err
		}
	}
	if err := sd.fate(ctx, b, cur); err != nil {
		return err
	}
	sd.record(b, cur, manifest.DigestOf(raw))
	return nil
}

// previous publishes the release before, merged and healthy in both
// targets with latest on it; every third backend also keeps an older
// run's anchor and a build-cache tag in ci-cache, neither of which may be
// taken for this run's digests.
func (sd *seeder) previous(ctx context.Context, i int, b Backend) error {
	prev, err := sd.newImages(b, sd.rel.PrevRef, sd.rel.PrevSHA)
	if err != nil {
		return err
	}
	for _, t := range []struct {
		reg  *loopreg.Registry
		repo string
	}{{sd.quay, QuayTarget}, {sd.hub, HubTarget}} {
		if err := push(ctx, t.reg, t.repo, prev); err != nil {
			return err
		}
		if err := sd.merge(ctx, b, t.reg, t.repo, t.reg.Repo(t.repo), prev, sd.rel.PrevRef, ""); err != nil {
			return err
		}
	}
	if i%3 == 0 && sd.rel.OldRun != "" {
		if err := sd.anchor(ctx, sd.rel.OldRun, b, prev[0]); err != nil {
			return err
		}
		if err := sd.quay.Tag(ctx, Anchor, "cache"+b.Suffix+"-"+prev[0].leg.Tag, prev[0].info.Digest); err != nil {
			return err
		}
	}
	return nil
}

// darwin images are pushed as plain tagged images by crane push.
func (sd *seeder) darwin(ctx context.Context, b Backend, cur []image) error {
	tag := []string{sd.rel.Ref + b.Suffix}
	targets := []struct {
		reg  *loopreg.Registry
		repo string
	}{{sd.hub, HubTarget}}
	if b.Fate != Missing {
		targets = append(targets, struct {
			reg  *loopreg.Registry
			repo string
		}{sd.quay, QuayTarget})
	}
	for _, t := range targets {
		if err := push(ctx, t.reg, t.repo, cur); err != nil {
			return err
		}
		if err := t.reg.PublishSingle(ctx, t.repo, tag, cur[0].info); err != nil {
			return err
		}
	}
	sd.record(b, cur, cur[0].info.Digest)
	return nil
}

// writeDigests lays out the folder `gh run download <run> -p 'digests*'`
// writes: digests<suffix>--<platform-tag>/<hex>.
func (sd *seeder) writeDigests(b Backend, cur []image) error {
	for _, im := range cur {
		d := filepath.Join(sd.s.DigestsDir, "digests"+b.Suffix+"--"+im.leg.Tag)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		hex := strings.TrimPrefix(im.info.Digest, "sha256:")
		if err := os.WriteFile(filepath.Join(d, hex), nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (sd *seeder) record(b Backend, cur []image, list string) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	m := map[string]loopreg.Image{}
	for _, im := range cur {
		m[im.leg.Tag] = im.info
	}
	sd.s.Images[b.Suffix] = m
	if list != "" {
		sd.s.Lists[b.Suffix] = list
	}
}

// WriterSteps runs the pipeline's steps with remerge's own list writer,
// which internal/pipeline's tests prove byte-identical to buildx v0.36.1:
// for the demo and the benchmark, which must not need buildx.
func WriterSteps(opts ...remote.Option) Steps {
	return Steps{
		Current: pipeline.Writer{Options: opts, Merge: manifest.DefaultMergeOptions()},
		Legacy:  pipeline.Writer{Options: opts, Merge: manifest.MergeOptions{PreferIndex: false, Order: manifest.OrderDigest}},
	}
}
