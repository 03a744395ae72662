package main

import (
	"context"
	"errors"
	"io"

	"github.com/go-skynet/remerge/internal/app"
)

// runTUIReleases opens the TUI on several releases at once (--release
// given more than once): one row per backend and release. Without a
// terminal it prints each release's inspect table, one after the other.
func runTUIReleases(ctx context.Context, o *options, stdout io.Writer) error {
	each, err := o.eachRelease()
	if err != nil {
		return err
	}
	if !isTerminal(stdout) {
		broken := false
		for _, one := range each {
			err := printTable(ctx, one, stdout)
			switch {
			case errors.Is(err, errBroken):
				broken = true
			case err != nil:
				return err
			}
		}
		if broken {
			return errBroken
		}
		return nil
	}
	if err := o.tuiSign.check(); err != nil {
		return err
	}
	rs := &app.Releases{}
	for _, one := range each {
		l, err := one.load()
		if err != nil {
			return err
		}
		rs.Each = append(rs.Each, o.service(l, nil))
	}
	// One client for every release: limits and Retry-After pauses are
	// shared, as they are within one release.
	c := o.client(rs.Each[0].Config)
	defer c.Close()
	for _, s := range rs.Each {
		s.Client = c
	}
	return app.OpenTUI(ctx, rs)
}

// eachRelease splits the flags into one set per --release, pairing the
// --digests folders with them in order. --run and --sha name one run's
// and one commit's release, so they do not go with several.
func (o *options) eachRelease() ([]*options, error) {
	if len(o.digestsDirs) > 0 && len(o.digestsDirs) != len(o.releases) {
		return nil, usagef("--digests given %d times for %d releases: give it once per --release, in the same order, or not at all", len(o.digestsDirs), len(o.releases))
	}
	if o.run != "" || o.sha != "" {
		return nil, usagef("--run and --sha name one release's run and commit: give them with one --release")
	}
	out := make([]*options, len(o.releases))
	for i, ref := range o.releases {
		c := *o
		c.releases, c.digestsDirs = []string{ref}, nil
		if len(o.digestsDirs) > 0 {
			c.digestsDirs = []string{o.digestsDirs[i]}
		}
		out[i] = &c
	}
	return out, nil
}
