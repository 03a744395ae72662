package inspect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/internal/published"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// FlatDigest is one file of a flat digests folder: an empty file named by
// the hex digest a build job pushed, with no platform in its name.
type FlatDigest struct {
	Path   string
	Digest string
}

// flat takes a top-level entry that is a digest file, or a recipe artifact
// folder (digests-linux-arm-v7) of them, as flat digests; false leaves it
// to the LocalAI layout's checks.
func (d *DigestsDir) flat(path string, e os.DirEntry) bool {
	switch {
	case digestsIsHex64(e.Name()) && e.Type().IsRegular():
		d.Flat = append(d.Flat, FlatDigest{Path: path, Digest: "sha256:" + e.Name()})
		return true
	case e.IsDir() && strings.HasPrefix(e.Name(), "digests-") && !strings.Contains(e.Name(), "--"):
		entries, _, err := digestsReadDir(path, maxDigestsArtifactList)
		if err != nil {
			return false
		}
		n := len(d.Flat)
		for _, f := range entries {
			if digestsIsHex64(f.Name()) && f.Type().IsRegular() {
				d.Flat = append(d.Flat, FlatDigest{Path: filepath.Join(path, f.Name()), Digest: "sha256:" + f.Name()})
			} else {
				d.problem(filepath.Join(path, f.Name()), "not named by a 64-hex digest; ignored")
			}
		}
		return len(d.Flat) > n
	}
	return false
}

// flatAnswer is what the registry says of one flat digest.
type flatAnswer struct {
	platform string // normalised os/arch[/variant]; "" when not found
	err      error  // could not tell
}

// ResolveFlatDigests reads the platform of every flat digest from the first
// repo of the config holding it (its manifest's config blob: an image
// manifest names no platform itself), and files each digest under its
// platform's leg of the recipe's image. A digest of a platform the config
// does not name, or two digests for one platform, is an input error naming
// the files. A digest in no repo is a problem (its leg stays without a
// digest: expired or lost); a registry that does not answer leaves the
// platform unknown, never absent. d is not changed; the result is a copy.
func ResolveFlatDigests(ctx context.Context, c *registry.Client, cfg release.Config, d *DigestsDir) (*DigestsDir, error) {
	if d == nil || len(d.Flat) == 0 {
		return d, nil
	}
	out := *d
	out.Problems = append([]string(nil), d.Problems...)
	out.Digests = map[string]map[string]string{}
	for k, v := range d.Digests {
		out.Digests[k] = v
	}
	if !cfg.Recipe() {
		for _, f := range d.Flat {
			out.problem(f.Path, "a digest file outside an artifact folder needs `platforms:` in the config (the multi-runner recipe); ignored")
		}
		return &out, nil
	}
	answers := make([]flatAnswer, len(d.Flat))
	var wg sync.WaitGroup
	for i, f := range d.Flat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = flatPlatform(ctx, c, cfg, f.Digest)
		}()
	}
	wg.Wait()
	return fileFlat(cfg, d.Flat, answers, &out)
}

// fileFlat files each answered digest under its leg.
func fileFlat(cfg release.Config, flat []FlatDigest, answers []flatAnswer, out *DigestsDir) (*DigestsDir, error) {
	legs := map[string]string{}
	files := map[string]string{}
	var unread []string
	for i, f := range flat {
		a := answers[i]
		switch {
		case a.err != nil:
			unread = append(unread, fmt.Sprintf("could not read the platform of %s: %s", f.Path, classText(a.err)))
			continue
		case a.platform == "":
			out.problem(f.Path, "%s is in no repo of the config: its platform cannot be read (expired or lost)", manifest.Short(f.Digest))
			continue
		}
		leg, ok := cfg.LegOf(a.platform)
		if !ok {
			return nil, fmt.Errorf("digests %s: %s is an image for %s, which is not in platforms %v", f.Path, manifest.Short(f.Digest), a.platform, cfg.Platforms)
		}
		if prev, dup := files[leg]; dup {
			return nil, fmt.Errorf("digests %s and %s: two digests for %s; keep the one the build pushed", prev, f.Path, a.platform)
		}
		files[leg], legs[leg] = f.Path, f.Digest
	}
	if len(legs) > 0 {
		out.Digests[cfg.RecipeImage()] = legs
	}
	if len(unread) > 0 {
		sort.Strings(unread)
		out.unread = map[string]string{cfg.RecipeImage(): strings.Join(unread, "; ")}
	}
	return out, nil
}

// flatPlatform finds digest in the config's repos (targets, then sources)
// and reads its platform from its config blob.
func flatPlatform(ctx context.Context, c *registry.Client, cfg release.Config, digest string) flatAnswer {
	var firstErr error
	for _, r := range cfg.Repos() {
		repo, err := c.Repository(r.Repo)
		if err != nil {
			return flatAnswer{err: err}
		}
		raw, desc, err := c.Manifest(ctx, repo.Digest(digest))
		if registry.IsNotFound(err) {
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m, err := manifest.Parse(raw, string(desc.MediaType), digest)
		if err != nil {
			return flatAnswer{err: err}
		}
		if m.IsList() {
			// An attested build: the index states its image's platform,
			// and the merge lists it as stated.
			img, err := manifest.Attested(m)
			if err != nil {
				return flatAnswer{err: fmt.Errorf("%s in %s is a list, not one platform's image or attested build: %w", manifest.Short(digest), r.Repo, err)}
			}
			return flatAnswer{platform: manifest.NormalPlatform(img.Platform)}
		}
		b, err := published.ReadConfig(ctx, c, repo, m.Config.Digest)
		if err != nil {
			return flatAnswer{err: err}
		}
		p, err := manifest.ConfigPlatform(b)
		if err != nil {
			return flatAnswer{err: fmt.Errorf("%s in %s: %w", manifest.Short(digest), r.Repo, err)}
		}
		return flatAnswer{platform: manifest.PlatformString(p)}
	}
	return flatAnswer{err: firstErr}
}

// Unread says why some flat digest's platform could not be read for the
// backend ("" when all were): the legs left without a digest are unknown.
func (d *DigestsDir) Unread(suffix string) string {
	if d == nil {
		return ""
	}
	return d.unread[suffix]
}
