package registry

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Budget is what a registry last said about its pull quota, from the
// ratelimit-limit, ratelimit-remaining and docker-ratelimit-source headers
// Docker Hub puts on every manifest answer, HEADs included (a HEAD costs
// no pull, so reading the budget is free). Limit and Remaining are -1 when
// the registry did not say.
type Budget struct {
	// Host is the registry host as requests address it.
	Host      string
	Limit     int
	Remaining int
	// Window is the period the limit is counted over (the ";w=" part).
	Window time.Duration
	// Source is who the registry counts the pulls against (an IP or an
	// account), from docker-ratelimit-source.
	Source string
	// Spent: the registry refused a request for the quota, or said none
	// is left; no request goes to it until Until.
	Spent bool
	// Until is when a spent quota is worth asking again: the window after
	// the answer that spent it (DefaultQuotaWindow when none was given).
	Until time.Time
	// Seen is when the registry last said any of this.
	Seen time.Time
}

// DefaultQuotaWindow is how long a registry whose quota is spent is left
// alone when it did not say its window: Docker Hub's documented 6 hours.
const DefaultQuotaWindow = 6 * time.Hour

// Message names the cause and the way out, e.g. "Docker Hub pull limit
// reached (0 of 100 per 6 h left): log in with `docker login`, or wait".
// For a budget that is not spent it says how many pulls are left.
func (b Budget) Message() string {
	name, login := b.Host, "docker login "+b.Host
	if isDockerHub(b.Host) {
		name, login = "Docker Hub", "docker login"
	}
	if !b.Spent {
		return fmt.Sprintf("%s: %s", name, b.left())
	}
	return fmt.Sprintf("%s pull limit reached (%s): log in with `%s`, or wait", name, b.left(), login)
}

// left is "0 of 100 per 6 h left", with the parts the registry said.
func (b Budget) left() string {
	rem := "0"
	if b.Remaining > 0 {
		rem = strconv.Itoa(b.Remaining)
	}
	if b.Limit < 0 {
		return rem + " pulls left"
	}
	s := rem + " of " + strconv.Itoa(b.Limit)
	if b.Window > 0 {
		s += " per " + windowText(b.Window)
	}
	return s + " left"
}

// windowText says a quota window the way Docker's documentation does:
// "6 h", "1 h", "30 min".
func windowText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// isDockerHub reports whether host is Docker Hub under any of its names.
func isDockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return true
	}
	return false
}

// QuotaError is every request to a registry whose pull quota is spent:
// the refusal itself, and each later request, which fails at once without
// being sent (retrying does not help for hours, and each try may count).
type QuotaError struct {
	Budget Budget
}

// Error is Budget.Message: the cause and the way out.
func (e *QuotaError) Error() string { return e.Budget.Message() }

// readBudget parses the rate-limit headers of an answer. ok is false when
// it carries none.
func readBudget(host string, h http.Header, now time.Time) (Budget, bool) {
	limit, lw, okL := rateHeader(h.Get("Ratelimit-Limit"))
	rem, rw, okR := rateHeader(h.Get("Ratelimit-Remaining"))
	if !okL && !okR {
		return Budget{}, false
	}
	b := Budget{Host: host, Limit: -1, Remaining: -1, Source: strings.TrimSpace(h.Get("Docker-Ratelimit-Source")), Seen: now}
	if okL {
		b.Limit = limit
	}
	if okR {
		b.Remaining = rem
	}
	b.Window = max(lw, rw)
	return b, true
}

// rateHeader reads "100;w=21600" (also a bare "100"): the count and the
// window in seconds.
func rateHeader(v string) (n int, window time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, 0, false
	}
	num, params, _ := strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "w") {
			if secs, err := strconv.Atoi(val); err == nil && secs > 0 {
				window = time.Duration(secs) * time.Second
			}
		}
	}
	return n, window, true
}

// quotaRefusal reports whether a 429 is a spent quota rather than a
// throttle: Docker Hub's TOOMANYREQUESTS error code in the registry's
// words, not in a page (isPage). The body is read (bounded) and put back
// for the caller.
func quotaRefusal(resp *http.Response) bool {
	if resp.StatusCode != http.StatusTooManyRequests || resp.Body == nil {
		return false
	}
	b, err := readBack(resp)
	return err == nil && !isPage(b) && bytes.Contains(b, []byte("TOOMANYREQUESTS"))
}

// budgets keeps the latest Budget per host, shared by all workers.
type budgets struct {
	mu sync.Mutex
	m  map[string]Budget
	// pulls counts the manifest GETs answered per host: what Docker Hub
	// counts against its quota.
	pulls map[string]int
}

// pulled counts one pull from host.
func (bs *budgets) pulled(host string) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.pulls == nil {
		bs.pulls = map[string]int{}
	}
	bs.pulls[host]++
}

// record keeps what an answer said; a spent quota stays spent until its
// window has passed, whatever later answers in flight say.
func (bs *budgets) record(b Budget) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[string]Budget{}
	}
	old, had := bs.m[b.Host]
	if had && old.Spent && b.Seen.Before(old.Until) {
		b.Spent, b.Until = true, old.Until
		b.Remaining = 0
	}
	if b.Remaining == 0 && !b.Spent {
		b.Spent = true
		b.Until = b.Seen.Add(quotaWindow(b))
	}
	bs.m[b.Host] = b
}

// spend marks host's quota spent by a refusal, keeping what the registry
// said of its budget.
func (bs *budgets) spend(host string, said Budget, saidOK bool, now time.Time) {
	if !saidOK {
		said = Budget{Host: host, Limit: -1, Remaining: 0, Seen: now}
		bs.mu.Lock()
		if old, had := bs.m[host]; had {
			said.Limit, said.Window, said.Source = old.Limit, old.Window, old.Source
		}
		bs.mu.Unlock()
	}
	said.Remaining = 0
	bs.record(said)
}

// stopped returns the spent budget of host while its quota is spent.
func (bs *budgets) stopped(host string, now time.Time) (Budget, bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b, ok := bs.m[host]
	if !ok || !b.Spent || !now.Before(b.Until) {
		return Budget{}, false
	}
	return b, true
}

// snapshot copies every host's latest budget.
func (bs *budgets) snapshot() map[string]Budget {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return maps.Clone(bs.m)
}

func quotaWindow(b Budget) time.Duration {
	if b.Window > 0 {
		return b.Window
	}
	return DefaultQuotaWindow
}

// stopped fails req at once, unsent, while its host's quota is spent.
func (t *transport) stopped(req *http.Request) error {
	if b, ok := t.quota.stopped(strings.ToLower(req.URL.Host), t.now()); ok {
		closeBody(req)
		return &QuotaError{Budget: b}
	}
	return nil
}

// readQuota records the budget an answer states and returns a QuotaError
// when the answer is a refusal for a spent quota: a 429 carrying
// TOOMANYREQUESTS, or one saying no pull is left. Such a refusal is not
// retried. A 200 saying none is left is the caller's answer, and stops
// the requests after it.
func (t *transport) readQuota(req *http.Request, resp *http.Response) error {
	host := strings.ToLower(req.URL.Host)
	if isManifestGet(req) && resp.StatusCode != http.StatusTooManyRequests {
		t.quota.pulled(host)
	}
	b, ok := readBudget(host, resp.Header, t.now())
	if ok {
		t.quota.record(b)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return nil
	}
	if (ok && b.Remaining == 0) || quotaRefusal(resp) {
		t.quota.spend(host, b, ok, t.now())
		spent, _ := t.quota.stopped(host, t.now())
		return &QuotaError{Budget: spent}
	}
	return nil
}
