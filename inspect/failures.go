package inspect

import (
	"fmt"
	"sort"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// failureSummary turns the error and denied answers of a report into one
// release-wide line per registry host and state: during an outage or with a
// missing login, the cause is stated once, instead of only inside hundreds
// of cells. Each line counts the failed probes and quotes the most common
// message.
func failureSummary(r *release.Report) []string {
	type key struct{ host, state string }
	type tally struct {
		n    int
		msgs map[string]int
	}
	seen := map[key]*tally{}
	total := map[string]int{}
	add := func(repo, state, msg string) {
		if state == string(release.CellUnknown) || state == string(release.CellPending) {
			return // nothing was asked
		}
		host := registry.Host(repo)
		total[host]++
		if state != string(release.CellError) && state != string(release.CellDenied) {
			return
		}
		k := key{host, state}
		t := seen[k]
		if t == nil {
			t = &tally{msgs: map[string]int{}}
			seen[k] = t
		}
		t.n++
		t.msgs[msg]++
	}
	for _, b := range r.Backends {
		for _, l := range b.Legs {
			for repo, c := range l.Cells {
				add(repo, string(c.State), c.Error)
			}
		}
		for _, ts := range b.Targets {
			for _, st := range ts.Tags {
				state := string(st.State)
				if st.Digest != "" {
					state = "resolved" // answered; judged broken maybe, but no probe failure
				}
				add(ts.Repo, state, st.Error)
			}
		}
	}
	keys := make([]key, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].host != keys[j].host {
			return keys[i].host < keys[j].host
		}
		return keys[i].state < keys[j].state
	})
	var out []string
	for _, k := range keys {
		t := seen[k]
		line := fmt.Sprintf("%s: %d of %d probes %s: %s", k.host, t.n, total[k.host], verbOf(k.state), commonest(t.msgs))
		if k.state == string(release.CellDenied) {
			line += " (credentials come from the Docker config: docker login " + k.host + ")"
		}
		out = append(out, line)
	}
	return out
}

func verbOf(state string) string {
	if state == string(release.CellDenied) {
		return "denied"
	}
	return "failed"
}

// commonest is the message seen most often; ties go to the smallest text,
// so the report is stable.
func commonest(msgs map[string]int) string {
	best, n := "", -1
	for m, c := range msgs {
		if c > n || c == n && m < best {
			best, n = m, c
		}
	}
	return best
}
