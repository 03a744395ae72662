package tui

import (
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/go-skynet/remerge/internal/release"
)

// pullsText is the header's note of the pulls left at each registry that
// states a pull quota (Docker Hub), e.g. " · docker.io 76/100 pulls"; ""
// when none does.
func pullsText(rep *release.Report) string {
	if rep == nil {
		return ""
	}
	var parts []string
	for _, host := range budgetHosts(rep) {
		b := rep.Registries[host]
		switch {
		case b.QuotaSpent:
			parts = append(parts, host+" pull limit reached")
		case b.PullsLeft >= 0 && b.PullsLimit >= 0:
			parts = append(parts, fmt.Sprintf("%s %d/%d pulls", host, b.PullsLeft, b.PullsLimit))
		case b.PullsLeft >= 0:
			parts = append(parts, fmt.Sprintf("%s %d pulls left", host, b.PullsLeft))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " · " + strings.Join(parts, " · ")
}

// pullsWarning says, before a re-inspection or a re-merge of everything
// starts, where it would likely spend more pulls than are left: the last
// inspection's pulls at that registry are the estimate. "" when it fits.
func pullsWarning(rep *release.Report, what string) string {
	if rep == nil {
		return ""
	}
	var over []string
	for _, host := range budgetHosts(rep) {
		b := rep.Registries[host]
		switch {
		case b.QuotaSpent:
			over = append(over, b.Message)
		case b.PullsLeft >= 0 && b.PullsSpent > b.PullsLeft:
			over = append(over, fmt.Sprintf("%s: the last inspection spent %d pulls, %d are left", host, b.PullsSpent, b.PullsLeft))
		}
	}
	if len(over) == 0 {
		return ""
	}
	return what + " would spend more pulls than are left: " + strings.Join(over, "; ")
}

// budgetHosts is the hosts of rep.Registries, sorted.
func budgetHosts(rep *release.Report) []string {
	hosts := make([]string, 0, len(rep.Registries))
	for h := range rep.Registries {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// refresh re-inspects the release (ctrl+r), unless the last inspection
// spent more pulls somewhere than are left there and this is the first
// press: then it says so and waits for a second.
func (m Model) refresh() (tea.Model, tea.Cmd) {
	if w := pullsWarning(m.report, "a re-inspection"); w != "" && !m.pullsWarned {
		m.pullsWarned = true
		m.setStatus(w+" · ctrl+r again to re-inspect anyway", true)
		return m, nil
	}
	m.pullsWarned = false
	m.setStatus("re-inspecting…", false)
	return m, m.startInspect()
}

// openRepairAllWarned opens the confirmation of R with the pulls warning,
// when there is one, on the status line under it.
func (m Model) openRepairAllWarned() (tea.Model, tea.Cmd) {
	next, cmd := m.openRepairAll()
	if w := pullsWarning(m.report, "re-merging everything"); w != "" {
		if nm, ok := next.(Model); ok {
			nm.setStatus(w, true)
			return nm, cmd
		}
	}
	return next, cmd
}
