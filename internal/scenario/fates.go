package scenario

import (
	"context"
	"fmt"

	"github.com/go-skynet/remerge/internal/loopreg"
)

// This file plays out each Fate after the release's images are pushed and
// anchored: which merges ran, and what quay's GC reaped.

// fate plays out b's fate over its images of the release, cur.
func (sd *seeder) fate(ctx context.Context, b Backend, cur []image) error {
	last := cur[len(cur)-1]
	switch b.Fate {
	case Healthy:
		return sd.healthy(ctx, b, cur)
	case Reaped:
		// GC reaped the children from the quay target before the merge
		// (sourced there at the time) ran: it failed; Docker Hub merged.
		for _, im := range cur {
			if err := reap(ctx, sd.quay, QuayTarget, im, false); err != nil {
				return err
			}
		}
		return sd.hubMerge(ctx, b, cur)
	case HubSkipped:
		// One leg reaped, the quay step failed, and under set -e the
		// Docker Hub step never ran: nothing published for this release.
		return reap(ctx, sd.quay, QuayTarget, last, false)
	case CrossOnly:
		return sd.crossOnly(ctx, b, cur)
	case Lost:
		return sd.lost(ctx, b, last)
	case Conflict:
		return sd.conflict(ctx, b, cur)
	case Partial:
		// A merge over the first leg alone made it to quay's release tag.
		rt := sd.quay.Repo(QuayTarget) + ":" + sd.rel.Ref + b.Suffix
		if err := sd.steps.Current.Create(ctx, []string{rt}, sources(sd.quay.Repo(QuayTarget), cur[:1])); err != nil {
			return err
		}
		return sd.hubMerge(ctx, b, cur)
	case Dangling:
		if err := sd.quayMerge(ctx, b, cur); err != nil {
			return err
		}
		if err := sd.hubMerge(ctx, b, cur); err != nil {
			return err
		}
		return reap(ctx, sd.quay, QuayTarget, last, false)
	case Unanchored:
		return nil
	}
	return fmt.Errorf("unknown fate %q", b.Fate)
}

// healthy: every merge worked; the job deletes the anchors, and quay's GC
// then reaps the untagged children from ci-cache.
func (sd *seeder) healthy(ctx context.Context, b Backend, cur []image) error {
	if err := sd.quayMerge(ctx, b, cur); err != nil {
		return err
	}
	if err := sd.hubMerge(ctx, b, cur); err != nil {
		return err
	}
	for _, im := range cur {
		if err := sd.unanchor(ctx, sd.rel.Run, b, im); err != nil {
			return err
		}
		if err := reap(ctx, sd.quay, Anchor, im, false); err != nil {
			return err
		}
	}
	return nil
}

// crossOnly: Docker Hub merged, and the last leg's anchor went too: only
// docker.io can give its bytes back, so a re-merge must copy across.
func (sd *seeder) crossOnly(ctx context.Context, b Backend, cur []image) error {
	last := cur[len(cur)-1]
	if err := sd.hubMerge(ctx, b, cur); err != nil {
		return err
	}
	if err := sd.unanchor(ctx, sd.rel.Run, b, last); err != nil {
		return err
	}
	for _, repo := range []string{QuayTarget, Anchor} {
		if err := reap(ctx, sd.quay, repo, last, true); err != nil {
			return err
		}
	}
	return nil
}

// lost: the last leg is gone from every repo.
func (sd *seeder) lost(ctx context.Context, b Backend, last image) error {
	if err := sd.unanchor(ctx, sd.rel.Run, b, last); err != nil {
		return err
	}
	for _, r := range []struct {
		reg  *loopreg.Registry
		repo string
	}{{sd.quay, QuayTarget}, {sd.quay, Anchor}, {sd.hub, HubTarget}} {
		if err := reap(ctx, r.reg, r.repo, last, false); err != nil {
			return err
		}
	}
	return nil
}

// conflict: another run built and merged the same release into quay
// first; Docker Hub got this run's.
func (sd *seeder) conflict(ctx context.Context, b Backend, cur []image) error {
	other, err := sd.newImages(b, sd.rel.Ref, sd.rel.SHA)
	if err != nil {
		return err
	}
	if err := push(ctx, sd.quay, QuayTarget, other); err != nil {
		return err
	}
	rt := sd.quay.Repo(QuayTarget) + ":" + sd.rel.Ref + b.Suffix
	if err := sd.steps.Current.Create(ctx, []string{rt}, sources(sd.quay.Repo(QuayTarget), other)); err != nil {
		return err
	}
	return sd.hubMerge(ctx, b, cur)
}
