package inspect

import (
	"sort"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// registryBudgets is what each registry of the inspection stated of its
// pull quota (Docker Hub's ratelimit headers, HEADs included), keyed by
// host as the config writes it, and one release-wide problem per registry
// whose quota is spent: the cause and the way out, said once rather than
// only in each unknown cell.
func registryBudgets(c *registry.Client, repos []release.Repo, pullsBefore map[string]int) (map[string]release.RegistryBudget, []string) {
	out := map[string]release.RegistryBudget{}
	pulls := c.Pulls()
	for _, r := range repos {
		host := registry.Host(r.Repo)
		if _, done := out[host]; done {
			continue
		}
		b, ok := c.BudgetOf(r.Repo)
		if !ok {
			continue
		}
		rb := budgetOf(b)
		rb.PullsSpent = pulls[b.Host] - pullsBefore[b.Host]
		out[host] = rb
	}
	if len(out) == 0 {
		return nil, nil
	}
	var problems []string
	for host, b := range out {
		if b.QuotaSpent {
			problems = append(problems, host+": "+b.Message+"; what was not judged there is unknown")
		}
	}
	sort.Strings(problems)
	return out, problems
}

// budgetOf is the report's form of a registry's Budget.
func budgetOf(b registry.Budget) release.RegistryBudget {
	return release.RegistryBudget{
		PullsLeft:     b.Remaining,
		PullsLimit:    b.Limit,
		WindowSeconds: int(b.Window.Seconds()),
		QuotaSpent:    b.Spent,
		Message:       b.Message(),
	}
}

// quotaSpent reports whether repo's registry stopped answering because its
// pull quota is spent.
func (p *prober) quotaSpent(repo string) bool {
	b, ok := p.e.c.BudgetOf(repo)
	return ok && b.Spent
}

// quotaText is the message of repo's spent quota.
func (p *prober) quotaText(repo string) string {
	b, _ := p.e.c.BudgetOf(repo)
	return b.Message()
}
