package testreg

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// PullQuota makes a FaultProxy count pulls as Docker Hub does (DESIGN.md
// section 8): every manifest GET is a pull, a HEAD is not; every manifest
// answer, HEAD included, carries ratelimit-limit, ratelimit-remaining
// ("N;w=SECONDS") and docker-ratelimit-source; once no pull is left, every
// manifest GET and HEAD is refused with 429 and TOOMANYREQUESTS until the
// window ends.
type PullQuota struct {
	// Limit is the pulls allowed per Window (Docker Hub: 100 for an
	// anonymous IP, 200 for a personal account).
	Limit int
	// Window is how long the limit counts over; 6 h when zero.
	Window time.Duration
	// Remaining is how many pulls are left when the quota is set (0: the
	// quota is already spent).
	Remaining int
	// Source is the docker-ratelimit-source value; 127.0.0.1 when empty.
	Source string
}

// DockerHubQuota is Docker Hub's anonymous quota, 100 pulls per 6 hours,
// with remaining pulls left.
func DockerHubQuota(remaining int) PullQuota {
	return PullQuota{Limit: 100, Window: 6 * time.Hour, Remaining: remaining}
}

// QuotaBody is the body of Docker Hub's refusal once the quota is spent.
const QuotaBody = `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"}]}`

// TokenBucket makes a FaultProxy limit requests as nginx's limit_req does
// in front of quay.io: a bucket of Burst tokens refilled at Rate a second;
// a request that finds no token is refused with 429, nginx's HTML page and
// no Retry-After. Which requests draw from the bucket is Match (quay's
// template: manifests at 50 r/s, burst 10). The bucket runs on the time
// requests arrive, nothing else: it is the same limit however they are
// sent.
type TokenBucket struct {
	Rate  float64
	Burst int
	Match Match
}

// QuayManifestBucket is quay's template limit on manifests (DESIGN.md
// section 8): rate a second, burst 10.
func QuayManifestBucket(rate float64) TokenBucket {
	return TokenBucket{Rate: rate, Burst: 10, Match: Match{Kinds: []Kind{KindManifest}}}
}

// limits is the quota and buckets of a FaultProxy, with their counts.
type limits struct {
	mu      sync.Mutex
	quota   *quotaState
	buckets []*bucketState
}

type quotaState struct {
	PullQuota
	left      int
	windowEnd time.Time
	pulls     int // manifest GETs let through
	refused   int // manifest requests refused for the quota
	after     int // requests of any kind since the first refusal
}

type bucketState struct {
	TokenBucket
	tokens  float64
	last    time.Time
	refused int
}

// SetPullQuota starts counting pulls against q from now.
func (p *FaultProxy) SetPullQuota(q PullQuota) {
	if q.Window <= 0 {
		q.Window = 6 * time.Hour
	}
	if q.Source == "" {
		q.Source = "127.0.0.1"
	}
	p.lim.mu.Lock()
	p.lim.quota = &quotaState{PullQuota: q, left: q.Remaining, windowEnd: time.Now().Add(q.Window)}
	p.lim.mu.Unlock()
}

// AddTokenBucket adds a bucket, full, after those already added.
func (p *FaultProxy) AddTokenBucket(b TokenBucket) {
	p.lim.mu.Lock()
	p.lim.buckets = append(p.lim.buckets, &bucketState{TokenBucket: b, tokens: float64(b.Burst), last: time.Now()})
	p.lim.mu.Unlock()
}

// ClearLimits removes the pull quota and every token bucket, with their
// counts.
func (p *FaultProxy) ClearLimits() {
	p.lim.mu.Lock()
	p.lim.quota, p.lim.buckets = nil, nil
	p.lim.mu.Unlock()
}

// QuotaCounts is the pulls (manifest GETs) let through and the manifest
// requests refused for the spent quota since SetPullQuota.
func (p *FaultProxy) QuotaCounts() (pulls, refused int) {
	p.lim.mu.Lock()
	defer p.lim.mu.Unlock()
	if q := p.lim.quota; q != nil {
		return q.pulls, q.refused
	}
	return 0, 0
}

// AfterQuotaRefusal is how many requests reached the proxy after the first
// one the quota refused (of any kind, refused or not): what a client sent
// to a registry that had said its quota was spent.
func (p *FaultProxy) AfterQuotaRefusal() int {
	p.lim.mu.Lock()
	defer p.lim.mu.Unlock()
	if q := p.lim.quota; q != nil {
		return q.after
	}
	return 0
}

// BucketRefusals is how many requests the token buckets refused.
func (p *FaultProxy) BucketRefusals() int {
	p.lim.mu.Lock()
	defer p.lim.mu.Unlock()
	n := 0
	for _, b := range p.lim.buckets {
		n += b.refused
	}
	return n
}

// limit answers r when the quota or a bucket refuses it, and reports
// whether it did; otherwise it sets the quota headers r's answer carries.
func (p *FaultProxy) limit(w http.ResponseWriter, r *http.Request) bool {
	kind := Classify(r.URL.Path)
	now := time.Now()
	p.lim.mu.Lock()
	for _, b := range p.lim.buckets {
		if !b.Match.hits(r.Method, kind, r.URL.Path) {
			continue
		}
		b.tokens = min(float64(b.Burst), b.tokens+b.Rate*now.Sub(b.last).Seconds())
		b.last = now
		if b.tokens < 1 {
			b.refused++
			p.lim.mu.Unlock()
			throttleHTML(w, r)
			return true
		}
		b.tokens--
	}
	q := p.lim.quota
	if q != nil && q.refused > 0 {
		q.after++
	}
	if q == nil || kind != KindManifest {
		p.lim.mu.Unlock()
		return false
	}
	if !now.Before(q.windowEnd) {
		q.left, q.windowEnd = q.Limit, now.Add(q.Window)
	}
	refuse := q.left <= 0
	switch {
	case refuse:
		q.refused++
	case r.Method == http.MethodGet:
		q.left--
		q.pulls++
	}
	left, limit, window, source := q.left, q.Limit, int(q.Window/time.Second), q.Source
	p.lim.mu.Unlock()
	h := w.Header()
	h.Set("Ratelimit-Limit", strconv.Itoa(limit)+";w="+strconv.Itoa(window))
	h.Set("Ratelimit-Remaining", strconv.Itoa(left)+";w="+strconv.Itoa(window))
	h.Set("Docker-Ratelimit-Source", source)
	if !refuse {
		return false
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, QuotaBody+"\n")
	}
	return true
}

// throttleHTML answers as nginx does when it throttles: 429, its HTML page,
// no Retry-After.
func throttleHTML(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusTooManyRequests)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, ThrottlePage)
	}
}
