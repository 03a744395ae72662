package registry

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PlainHTTPError is returned for a request that would go over plain HTTP to
// a registry the user did not list under insecure. go-containerregistry
// falls back to http on its own for RFC 1918 and ".local" hosts; credentials
// and digests must not travel in clear to a host only because its address
// looks private, so the transport refuses instead.
type PlainHTTPError struct {
	Host string // host[:port] of the refused request
}

// Error names the host and the way out, so the user knows which setting to
// change.
func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("refusing plain HTTP to %s: not listed under insecure", e.Host)
}

// insecureSet holds the registries that may be spoken to over plain HTTP.
type insecureSet map[string]bool

// newInsecureSet normalises the configured entries: lower case, trimmed, and
// with any scheme or trailing slash a user may have pasted removed.
func newInsecureSet(hosts []string) insecureSet {
	s := insecureSet{}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		h = strings.TrimPrefix(strings.TrimPrefix(h, "http://"), "https://")
		h = strings.TrimSuffix(h, "/")
		if h != "" {
			s[h] = true
		}
	}
	return s
}

// allows reports whether hostport (as in a URL's Host) is spoken to over
// plain HTTP: listed as is, listed without a port, or a loopback address.
func (s insecureSet) allows(hostport string) bool {
	hostport = strings.ToLower(hostport)
	if s[hostport] {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if s[host] {
		return true
	}
	return isLoopback(host)
}

// isLoopback reports whether host (no port) is localhost, 127.0.0.0/8 or
// ::1. Names other than "localhost" are not resolved: a guard that trusted
// DNS could be pointed anywhere.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errPlainOnly fails an https request to a host spoken to over plain HTTP.
// go-containerregistry races https against http when pinging such a host;
// against a plain server the TLS attempt can sit in its handshake for the
// whole handshake timeout (the server waits for a request line that never
// comes), holding a connection open long after http has won. Failing it at
// once makes the ping fall back to http immediately.
type errPlainOnly struct{ host string }

func (e *errPlainOnly) Error() string {
	return fmt.Sprintf("%s is spoken to over plain HTTP (loopback or listed under insecure): not trying https", e.host)
}

// checkScheme refuses plain HTTP to hosts that are not allowed it, and
// https to hosts that are.
func (s insecureSet) checkScheme(u *url.URL) error {
	plain := strings.EqualFold(u.Scheme, "http")
	switch {
	case plain && !s.allows(u.Host):
		return &PlainHTTPError{Host: u.Host}
	case !plain && s.allows(u.Host):
		return &errPlainOnly{host: u.Host}
	}
	return nil
}
