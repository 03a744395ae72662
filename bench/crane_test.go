package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// craneSample is how many crane invocations are timed per loop; the rest
// of the loop is extrapolated from their mean.
const craneSample = 40

// craneRun is the baseline: what a maintainer's shell loop does, one crane
// process per item, one after another. The issue's loop is `crane digest
// repo@digest` (a manifest HEAD) per (digest, repo) pair; a second loop of
// `crane manifest repo:tag` (a GET) per (target, tag) shows the tag half of
// the work, which the loop leaves out.
type craneRun struct {
	verb    string // "digest" or "manifest"
	latency time.Duration
	sample  int
	items   int // everything the loop would visit
	wall    time.Duration
	present int // sampled items crane found
	missing int // sampled items crane reported absent
	// quay and hub are the requests each proxy saw during the loop.
	quay, hub testreg.Stats
}

// perCall is the mean time of one invocation.
func (c *craneRun) perCall() time.Duration { return c.wall / time.Duration(c.sample) }

// extrapolated is the loop's time over every item.
func (c *craneRun) extrapolated() time.Duration { return c.perCall() * time.Duration(c.items) }

// requestsPerCall is the mean number of requests one invocation sent.
func (c *craneRun) requestsPerCall() float64 {
	return float64(c.quay.Total()+c.hub.Total()) / float64(c.sample)
}

// requests counts the loop's requests of a method and kind at both proxies.
func (c *craneRun) requests(method string, kind testreg.Kind) int {
	return c.quay.Requests(method, kind) + c.hub.Requests(method, kind)
}

// digestRefs are the references of the loop: repo@digest per pair.
func digestRefs(pairs []pair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.repo + "@" + p.digest
	}
	return out
}

// tagRefs are repo:tag for every tag of every target in the report.
func tagRefs(rep *release.Report) []string {
	var out []string
	for _, be := range rep.Backends {
		for _, t := range be.Targets {
			for tag := range t.Tags {
				out = append(out, t.Repo+":"+tag)
			}
		}
	}
	sort.Strings(out) // map order would make the sample differ per run
	return out
}

// runCrane times craneSample invocations of `crane <verb> --insecure REF`
// over refs spread evenly through all of them (present and absent alike,
// both registries), at latency d.
func (f *fixture) runCrane(ctx context.Context, d time.Duration, verb string, refs []string) (*craneRun, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("crane %s loop: nothing to sample", verb)
	}
	n := min(craneSample, len(refs))
	f.setLatency(d)
	c := &craneRun{verb: verb, latency: d, sample: n, items: len(refs)}
	start := time.Now()
	for i := range n {
		found, err := f.crane1(ctx, verb, refs[i*len(refs)/n])
		if err != nil {
			return nil, err
		}
		if found {
			c.present++
		} else {
			c.missing++
		}
	}
	c.wall = time.Since(start)
	c.quay, c.hub = f.quayProxy.Stats(), f.hubProxy.Stats()
	return c, nil
}

// crane1 runs one crane invocation and reports whether the manifest is
// there. A digest reference must print its own digest; a manifest must
// print something. Any failure other than "not found" is an error.
func (f *fixture) crane1(ctx context.Context, verb, ref string) (bool, error) {
	cmd := exec.CommandContext(ctx, f.crane, verb, "--insecure", ref)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+f.dockerConfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		out := strings.TrimSpace(stdout.String())
		if _, dgst, ok := strings.Cut(ref, "@"); ok && out != dgst {
			return false, fmt.Errorf("crane %s %s printed %q", verb, ref, out)
		}
		if out == "" {
			return false, fmt.Errorf("crane %s %s printed nothing", verb, ref)
		}
		return true, nil
	case errors.As(err, &exit) && (strings.Contains(stderr.String(), "MANIFEST_UNKNOWN") || strings.Contains(stderr.String(), "404")):
		return false, nil
	}
	return false, fmt.Errorf("crane %s %s: %w\n%s", verb, ref, err, stderr.Bytes())
}
