package scenario

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/loopreg"
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
	Ref, PrevRef, Run, OldRun, SHA string
}

// DefaultRelease is shaped like LocalAI v4.2.2.
func DefaultRelease() Release {
	return Release{Ref: "v4.2.2", PrevRef: "v4.2.1", Run: "25745181433", OldRun: "25612093377", SHA: "8521af145f3c9e0d2b7a61f4e5d8c0a9b1e2f3d4"}
}

// Seeded is what Seed made: the config and files to point remerge at, and
// the truth to assert against.
type Seeded struct {
	Release    inspect.Release
	Config     inspect.Config
	Dir        string // holds matrix, config and digests folder
	MatrixPath string
	ConfigPath string
	DigestsDir string
	Backends   []Backend
	// Images: suffix -> platform-tag -> the release's child image.
	Images map[string]map[string]loopreg.Image
	// Lists: suffix -> the digest a correct merge publishes (list bytes as
	// buildx writes them, or the single child itself).
	Lists map[string]string
}

// Seed pushes the release into quay and hub (two running registries) and
// writes its matrix, config and digests folder under dir.
func Seed(ctx context.Context, dir string, quay, hub *loopreg.Registry, rel Release, backends []Backend, opt loopreg.ImageOptions) (*Seeded, error) {
	s := &Seeded{
		Release:  inspect.Release{Ref: rel.Ref, Run: rel.Run, SHA: rel.SHA},
		Dir:      dir,
		Backends: backends,
		Images:   map[string]map[string]loopreg.Image{},
		Lists:    map[string]string{},
	}
	s.Config = inspect.DefaultConfig()
	s.Config.Anchor = quay.Repo(Anchor)
	s.Config.Targets = []inspect.Target{{Name: "quay", Repo: quay.Repo(QuayTarget)}, {Name: "dockerhub", Repo: hub.Repo(HubTarget)}}
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
	sd := &seeder{quay: quay, hub: hub, rel: rel, opt: opt, s: s}
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
	mu        sync.Mutex
	s         *Seeded
}

// image is one leg's image pushed to some repos.
type image struct {
	leg  Leg
	img  v1.Image
	info loopreg.Image
}

func (sd *seeder) newImages(b Backend) ([]image, error) {
	var out []image
	for _, l := range b.Platforms() {
		img, err := loopreg.NewImage(v1.Platform{OS: l.OS, Architecture: l.Arch}, sd.opt)
		if err != nil {
			return nil, err
		}
		out = append(out, image{leg: l, img: img})
	}
	return out, nil
}

// push puts every image into repo of reg.
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

// publish writes what the merge writes: a list over two or more children,
// the child itself over one (or a one-entry list, as older buildx did).
func publish(ctx context.Context, reg *loopreg.Registry, repo string, tags []string, imgs []image, oneEntry bool) (string, error) {
	infos := make([]loopreg.Image, len(imgs))
	for i, im := range imgs {
		infos[i] = im.info
	}
	if len(infos) == 1 && !oneEntry {
		return infos[0].Digest, reg.PublishSingle(ctx, repo, tags, infos[0])
	}
	return reg.PublishList(ctx, repo, tags, infos...)
}

func (sd *seeder) tags(ref, suffix string, withLatest bool) []string {
	t := []string{ref + suffix}
	if ref == sd.rel.Ref && sd.rel.SHA != "" {
		t = append(t, "sha-"+sd.rel.SHA[:7]+suffix)
	}
	if withLatest {
		t = append(t, "latest"+suffix)
	}
	return t
}

func (sd *seeder) backend(ctx context.Context, i int, b Backend) error {
	cur, err := sd.newImages(b)
	if err != nil {
		return err
	}
	if b.Kind == inspect.KindDarwin {
		return sd.darwin(ctx, b, cur)
	}
	if !b.NoPrevious {
		prev, err := sd.newImages(b)
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
			if _, err := publish(ctx, t.reg, t.repo, sd.tags(sd.rel.PrevRef, b.Suffix, true), prev, false); err != nil {
				return err
			}
		}
	}
	// The build jobs: push by digest to both targets, and to the anchor repo.
	if err := push(ctx, sd.hub, HubTarget, cur); err != nil {
		return err
	}
	if err := push(ctx, sd.quay, Anchor, cur); err != nil {
		return err
	}
	if err := push(ctx, sd.quay, QuayTarget, cur); err != nil {
		return err
	}
	if b.Fate != Unanchored {
		for _, im := range cur {
			if err := sd.quay.Tag(ctx, Anchor, inspect.KeepaliveTag(sd.rel.Run, b.Suffix, im.leg.Tag), im.info.Digest); err != nil {
				return err
			}
		}
		if err := sd.writeDigests(b, cur); err != nil {
			return err
		}
	}
	if i%3 == 0 && sd.rel.OldRun != "" {
		// An older run's anchor and a build-cache tag: neither may be taken
		// for this run's digests.
		if err := sd.quay.Tag(ctx, Anchor, inspect.KeepaliveTag(sd.rel.OldRun, b.Suffix, cur[0].leg.Tag), cur[0].info.Digest); err != nil {
			return err
		}
		if err := sd.quay.Tag(ctx, Anchor, "cache"+b.Suffix+"-"+cur[0].leg.Tag, cur[0].info.Digest); err != nil {
			return err
		}
	}
	if err := sd.fate(ctx, b, cur); err != nil {
		return err
	}
	sd.record(b, cur)
	return nil
}

func (sd *seeder) fate(ctx context.Context, b Backend, cur []image) error {
	all := sd.tags(sd.rel.Ref, b.Suffix, true)
	last := cur[len(cur)-1]
	switch b.Fate {
	case Healthy:
		if _, err := publish(ctx, sd.quay, QuayTarget, all, cur, b.OneEntryList); err != nil {
			return err
		}
		_, err := publish(ctx, sd.hub, HubTarget, all, cur, b.OneEntryList)
		return err
	case Reaped:
		for _, im := range cur {
			if err := sd.quay.Reap(ctx, QuayTarget, im.info.Digest); err != nil {
				return err
			}
		}
		_, err := publish(ctx, sd.hub, HubTarget, all, cur, false)
		return err
	case CrossOnly:
		if _, err := publish(ctx, sd.hub, HubTarget, all, cur, false); err != nil {
			return err
		}
		// Reaped from both quay repos, blob links included: only docker.io
		// can give the bytes back, so a re-merge must copy across.
		for _, repo := range []string{QuayTarget, Anchor} {
			if err := sd.quay.Reap(ctx, repo, last.info.Digest); err != nil {
				return err
			}
			for _, blob := range append([]string{last.info.Config}, last.info.Layers...) {
				if err := sd.quay.DropBlob(ctx, repo, blob); err != nil {
					return err
				}
			}
		}
		return nil
	case Lost:
		for _, r := range []struct {
			reg  *loopreg.Registry
			repo string
		}{{sd.quay, QuayTarget}, {sd.quay, Anchor}, {sd.hub, HubTarget}} {
			if err := r.reg.Reap(ctx, r.repo, last.info.Digest); err != nil {
				return err
			}
		}
		return nil
	case Conflict:
		other, err := sd.newImages(b)
		if err != nil {
			return err
		}
		if err := push(ctx, sd.quay, QuayTarget, other); err != nil {
			return err
		}
		_, err = publish(ctx, sd.quay, QuayTarget, all[:1], other, false)
		return err
	case Partial:
		if _, err := publish(ctx, sd.quay, QuayTarget, all[:1], cur[:1], true); err != nil {
			return err
		}
		_, err := publish(ctx, sd.hub, HubTarget, all, cur, false)
		return err
	case Dangling:
		if _, err := publish(ctx, sd.quay, QuayTarget, all, cur, false); err != nil {
			return err
		}
		if _, err := publish(ctx, sd.hub, HubTarget, all, cur, false); err != nil {
			return err
		}
		return sd.quay.Reap(ctx, QuayTarget, last.info.Digest)
	case Unanchored:
		return nil
	}
	return fmt.Errorf("unknown fate %q", b.Fate)
}

func (sd *seeder) darwin(ctx context.Context, b Backend, cur []image) error {
	tag := []string{sd.rel.Ref + b.Suffix}
	if err := push(ctx, sd.hub, HubTarget, cur); err != nil {
		return err
	}
	if _, err := publish(ctx, sd.hub, HubTarget, tag, cur, false); err != nil {
		return err
	}
	if b.Fate != Missing {
		if err := push(ctx, sd.quay, QuayTarget, cur); err != nil {
			return err
		}
		if _, err := publish(ctx, sd.quay, QuayTarget, tag, cur, false); err != nil {
			return err
		}
	}
	sd.record(b, cur)
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

func (sd *seeder) record(b Backend, cur []image) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	m := map[string]loopreg.Image{}
	infos := make([]loopreg.Image, len(cur))
	for i, im := range cur {
		m[im.leg.Tag] = im.info
		infos[i] = im.info
	}
	sd.s.Images[b.Suffix] = m
	if len(infos) == 1 {
		sd.s.Lists[b.Suffix] = infos[0].Digest
		return
	}
	if raw, _, err := loopreg.ListBytes(infos...); err == nil {
		sd.s.Lists[b.Suffix] = digestOf(raw)
	}
}
