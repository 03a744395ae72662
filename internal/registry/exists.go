package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// HoldsTags asks repo for one page of one tag (tags/list?n=1): the
// cheapest request that tells whether a repo exists and holds anything.
// Docker Hub counts manifest GETs as pulls, not tag listings. A repo that
// does not exist answers NAME_UNKNOWN (IsRepoUnknown), or on Docker Hub a
// 401 for a name it will not confirm.
func (c *Client) HoldsTags(ctx context.Context, repo name.Repository) (bool, error) {
	p, err := remote.NewPuller(append(c.BaseOptions(ctx), remote.WithPageSize(1))...)
	if err != nil {
		return false, err
	}
	l, err := p.Lister(ctx, repo)
	if err != nil {
		return false, wrap(err, "listing tags of %s", repo)
	}
	page, err := l.Next(ctx)
	if err != nil {
		return false, wrap(err, "listing tags of %s", repo)
	}
	return page != nil && len(page.Tags) > 0, nil
}
