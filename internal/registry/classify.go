package registry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	ggcrtransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Class is the coarse outcome of a failed registry call, what a cell of the
// inspect grid needs: absent, not ours to see, or something else went wrong.
type Class int

// The classes Classify returns.
const (
	// Other covers everything that is neither an absence nor a refusal:
	// 5xx after retries, timeouts, refused plain HTTP, oversized manifests.
	Other Class = iota
	// NotFound: the registry says the thing asked for is not in the repo:
	// MANIFEST_UNKNOWN / BLOB_UNKNOWN, or a 404 with no body (a HEAD).
	NotFound
	// Denied: 401 or 403, or UNAUTHORIZED / DENIED.
	Denied
	// Quota: the registry's pull quota is spent (QuotaError). Nothing was
	// learnt about the thing asked for, and asking again will not help
	// for hours: could-not-tell, with the way out in the text.
	Quota
	// RepoUnknown: NAME_UNKNOWN, the repository itself does not exist. A
	// repo that does not exist is not a repo whose manifests were reaped
	// (a mistyped name), so it is kept apart from NotFound.
	RepoUnknown
)

// String names the class for logs and test failures.
func (c Class) String() string {
	switch c {
	case NotFound:
		return "not-found"
	case Denied:
		return "denied"
	case Quota:
		return "quota"
	case RepoUnknown:
		return "repo-unknown"
	}
	return "other"
}

// maxErrorText bounds the text Classify returns: it goes into one table
// cell or one JSON field, not a page of HTML from a proxy.
const maxErrorText = 300

// Classify sorts err into a Class and returns the registry's own words for
// it, e.g. "MANIFEST_UNKNOWN: manifest unknown" or "429 Too Many Requests:
// slow down": one trimmed line, with any token or password removed. A nil
// err gives (Other, "").
func Classify(err error) (Class, string) {
	if err == nil {
		return Other, ""
	}
	// Only a plain-HTTP refusal needs the whole text first (every 404
	// comes through here: its text is redacted once, below).
	var plain *PlainHTTPError
	if errors.As(err, &plain) && !strings.Contains(oneLine(Redact(err.Error())), plain.Error()) {
		// The refusal is what the user must act on. go-containerregistry
		// reports it after the failed https attempt, long enough for the
		// length cap to cut it off, so it goes first.
		return Other, oneLine(Redact(plain.Error() + "; " + err.Error()))
	}
	var quota *QuotaError
	if errors.As(err, &quota) {
		return Quota, quota.Error()
	}
	var throttled *ThrottledError
	if errors.As(err, &throttled) {
		return Other, throttled.Error()
	}
	var terr *ggcrtransport.Error
	if !errors.As(err, &terr) {
		// A network failure is told by its innermost operation ("dial tcp
		// 10.0.0.5:443: connect: connection refused"), not by the
		// https-then-http story of go-containerregistry's ping around it,
		// which repeats in every cell of an unreachable registry.
		var op *net.OpError
		if errors.As(err, &op) {
			return Other, oneLine(Redact(netText(op)))
		}
		return Other, oneLine(Redact(err.Error()))
	}
	class := classOf(terr)
	return class, oneLine(Redact(registryText(terr)))
}

// IsNotFound reports whether err is the registry saying the thing asked
// for is not in the repo (MANIFEST_UNKNOWN, BLOB_UNKNOWN, a bodiless 404):
// absence, as opposed to could-not-tell. A repo that does not exist
// (IsRepoUnknown) is not this.
func IsNotFound(err error) bool {
	c, _ := Classify(err)
	return c == NotFound
}

// IsRepoUnknown reports whether err is the registry saying the repository
// does not exist (NAME_UNKNOWN).
func IsRepoUnknown(err error) bool {
	c, _ := Classify(err)
	return c == RepoUnknown
}

// netText says a failed connection in the words a person acts on: "could
// not reach 127.0.0.1:1: connection refused", not Go's "dial tcp
// 127.0.0.1:1: connect: connection refused". Other network failures (a read
// that timed out, a reset) keep Go's text, which names the operation.
func netText(op *net.OpError) string {
	if op.Op != "dial" || op.Err == nil {
		return op.Error()
	}
	addr := ""
	if op.Addr != nil {
		addr = op.Addr.String()
	}
	cause := op.Err
	var sys *os.SyscallError
	if errors.As(cause, &sys) && sys.Err != nil {
		cause = sys.Err
	}
	var dns *net.DNSError
	if errors.As(cause, &dns) && dns.Name != "" && addr == "" {
		addr = dns.Name
	}
	if addr == "" {
		return "could not reach the registry: " + cause.Error()
	}
	return "could not reach " + addr + ": " + cause.Error()
}

func classOf(e *ggcrtransport.Error) Class {
	for _, d := range e.Errors {
		switch d.Code {
		case ggcrtransport.NameUnknownErrorCode:
			return RepoUnknown
		case ggcrtransport.ManifestUnknownErrorCode, ggcrtransport.BlobUnknownErrorCode:
			return NotFound
		case ggcrtransport.UnauthorizedErrorCode, ggcrtransport.DeniedErrorCode:
			return Denied
		}
	}
	switch e.StatusCode {
	case http.StatusNotFound:
		if foreign404(e) {
			return Other
		}
		return NotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		return Denied
	}
	return Other
}

// foreign404 reports whether a 404 is not a registry's answer: a registry
// says "not found" with its error JSON, or with no body at all on a HEAD.
// An HTML page or any other body (a proxy, a wrong host or path prefix) is
// some other server's 404, which tells nothing about the repo.
func foreign404(e *ggcrtransport.Error) bool {
	if len(e.Errors) > 0 {
		return false
	}
	body := rawBody(e)
	return body != "" || e.Request == nil || e.Request.Method != http.MethodHead
}

// rawBody is the body go-containerregistry kept of an answer it could not
// parse; it is only reachable through Error(), after the status.
func rawBody(e *ggcrtransport.Error) string {
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	msg := e.Error()
	if i := strings.Index(msg, status+": "); i >= 0 {
		return strings.TrimSpace(msg[i+len(status)+2:])
	}
	return ""
}

// registryText is the error as the registry put it, without the request
// line go-containerregistry prefixes ("HEAD https://...: ").
func registryText(e *ggcrtransport.Error) string {
	if e.StatusCode == http.StatusNotFound && foreign404(e) {
		host := "the registry"
		if e.Request != nil && e.Request.URL != nil {
			host = e.Request.URL.Host
		}
		return fmt.Sprintf("%s answered 404 with a page that is not a registry's answer (wrong host, or a proxy in the way?)", host)
	}
	if len(e.Errors) > 0 {
		parts := make([]string, 0, len(e.Errors))
		for _, d := range e.Errors {
			parts = append(parts, fmt.Sprintf("%s: %s", d.Code, d.Message))
		}
		return strings.Join(parts, "; ")
	}
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	// A page is some proxy's: it says nothing the status does not.
	if body := rawBody(e); body != "" && !isPage([]byte(body)) {
		return status + ": " + body
	}
	if e.StatusCode == http.StatusTooManyRequests {
		return status + " (throttled)"
	}
	return status
}

// oneLine keeps the first non-empty line of s, trimmed and bounded.
func oneLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			s = line
			break
		}
	}
	s = strings.TrimSpace(s)
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "..."
	}
	return s
}

// Patterns that carry secrets in error text: auth headers, bearer/basic
// values, token-ish query parameters and JSON fields, userinfo in URLs.
// secretPatterns are the credentials Redact removes. Each has needles, of
// which a text must hold one (lower-cased) for the pattern to match at all:
// the regexps cost more than the rest of handling a 404, and nearly every
// error text holds none, so they run only where they could match.
var secretPatterns = []struct {
	re      *regexp.Regexp
	repl    string
	needles []string
}{
	{regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+`), "${1}[redacted]", []string{"authorization"}},
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}`), "${1} [redacted]", []string{"bearer", "basic"}},
	{regexp.MustCompile(`(?i)([?&;]\s*(?:access_token|refresh_token|id_token|token|password|passwd|secret|signature|x-amz-signature|sig)=)[^&\s"']*`), "${1}[redacted]", []string{"="}},
	{regexp.MustCompile(`(?i)("(?:access_token|refresh_token|id_token|token|password|secret|auth|identitytoken|registrytoken)"\s*:\s*")[^"]*`), "${1}[redacted]", []string{`"`}},
	{regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@`), "${1}[redacted]@", []string{"@"}},
}

// Redact removes credentials from s: Authorization header values, bearer
// and basic credentials, token and password query parameters and JSON
// fields, and user:password@ in URLs. Every error text this package hands
// out goes through it; callers may use it on text of their own.
func Redact(s string) string {
	lower := foldForNeedles(s)
	for _, p := range secretPatterns {
		for _, n := range p.needles {
			if strings.Contains(lower, n) {
				s = p.re.ReplaceAllString(s, p.repl)
				lower = foldForNeedles(s)
				break
			}
		}
	}
	return s
}

// foldForNeedles lower-cases s as the patterns' (?i) folds it: besides
// ASCII, the long s (ſ) and the Kelvin sign (K) fold to s and k.
var needleFolder = strings.NewReplacer("ſ", "s", "\u212a", "k")

func foldForNeedles(s string) string { return needleFolder.Replace(strings.ToLower(s)) }

// redactedError keeps the wrapped error for errors.Is/As (Classify needs the
// *ggcrtransport.Error) while its text never shows a credential.
type redactedError struct {
	err error
}

func (e *redactedError) Error() string { return Redact(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// ThrottledError is what a request gets when the registry kept answering
// 429 without a word of its own (no body, or an HTML page as quay.io's
// nginx serves) until the request's retry deadline passed.
type ThrottledError struct {
	Host  string
	Tries int           // requests sent, the first included
	Spent time.Duration // from the first try to giving up
}

// Error starts with the status as a person reads it; what follows tells
// that remerge did wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("429 Too Many Requests (throttled): %s still throttling after %d tries in %s",
		e.Host, e.Tries, e.Spent.Round(time.Millisecond))
}

// wrap adds context to err and makes its text safe to print.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: fmt.Errorf(format+": %w", append(args, err)...)}
}
