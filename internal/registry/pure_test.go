package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ggcrtransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "2", 2 * time.Second, true},
		{"zero", "0", 0, true},
		{"spaces", " 60 ", 60 * time.Second, true},
		{"huge seconds do not wrap", "99999999999999999", maxDuration, true},
		{"negative", "-5", 0, false},
		{"empty", "", 0, false},
		{"garbage", "soon", 0, false},
		{"fraction", "1.5", 0, false},
		{"http date", "Tue, 21 Oct 2025 07:28:30 GMT", 30 * time.Second, true},
		{"date in the past", "Tue, 21 Oct 2025 07:27:00 GMT", 0, true},
		{"rfc850 date", "Tuesday, 21-Oct-25 07:28:10 GMT", 10 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	resp := &http.Response{Header: http.Header{"Retry-After": {"3600"}}}
	got, ok := retryAfter(resp, time.Now(), time.Minute)
	if !ok || got != time.Minute {
		t.Fatalf("retryAfter = %v, %v; want capped to 1m", got, ok)
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	t.Parallel()
	for attempt := range 10 {
		t.Run(fmt.Sprint(attempt), func(t *testing.T) {
			t.Parallel()
			base := min(baseBackoff<<attempt, 5*time.Second)
			for range 50 {
				d := backoff(attempt, 5*time.Second)
				if d < base*3/4 || d > base*5/4 {
					t.Fatalf("backoff(%d) = %v, want within 25%% of %v", attempt, d, base)
				}
			}
		})
	}
}

func TestInsecureGuard(t *testing.T) {
	t.Parallel()
	set := newInsecureSet([]string{"Registry.LAN:5000", "http://10.0.0.9/", "plainhost"})
	tests := []struct {
		url     string
		refused bool
	}{
		{"https://10.0.0.5:5000/v2/", false},
		{"https://quay.io/v2/", false},
		{"https://127.0.0.1:5000/v2/", true},
		{"https://registry.lan:5000/v2/", true},
		{"http://10.0.0.5:5000/v2/", true},
		{"http://192.168.1.2/v2/", true},
		{"http://quay.io/v2/", true},
		{"http://127.0.0.1:5000/v2/", false},
		{"http://127.8.9.1/v2/", false},
		{"http://[::1]:5000/v2/", false},
		{"http://localhost:5000/v2/", false},
		{"http://registry.lan:5000/v2/", false},
		{"http://registry.lan:5001/v2/", true},
		{"http://10.0.0.9:5000/v2/", false},
		{"http://plainhost:8080/v2/", false},
		{"http://localhost.evil.com/v2/", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			err = set.checkScheme(u)
			if (err != nil) != tt.refused {
				t.Fatalf("checkScheme(%s) = %v, refused want %v", tt.url, err, tt.refused)
			}
			if err != nil && u.Scheme == "http" && err.Error() != "refusing plain HTTP to "+u.Host+": not listed under insecure" {
				t.Errorf("unexpected message %q", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		secret string
	}{
		{"auth header", "request had Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi"},
		{"basic header", `header "Authorization": "Basic dXNlcjpzM2NyZXQ="`, "dXNlcjpzM2NyZXQ="},
		{"bare bearer", "token was bearer abcdefghijkl", "abcdefghijkl"},
		{"token query", "GET https://auth.example/token?scope=x&token=s3cr3tvalue: 401", "s3cr3tvalue"},
		{"access_token query", "GET https://x/y?access_token=s3cr3tvalue&n=1", "s3cr3tvalue"},
		{"password query", "POST https://x/y?password=hunter22", "hunter22"},
		{"json token", `{"token":"s3cr3tvalue","expires_in":300}`, "s3cr3tvalue"},
		{"userinfo", "Get \"https://alice:hunter22@reg.example/v2/\": EOF", "hunter22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Redact(tt.in)
			if strings.Contains(got, tt.secret) {
				t.Errorf("Redact(%q) = %q still holds the secret", tt.in, got)
			}
			if !strings.Contains(got, "[redacted]") {
				t.Errorf("Redact(%q) = %q, want a [redacted] marker", tt.in, got)
			}
		})
	}
	// Needles are checked as the patterns fold case: the long s still
	// reads as "basic".
	if got := Redact("Baſic dXNlcjpodW50ZXIy"); strings.Contains(got, "dXNlcjpodW50ZXIy") {
		t.Errorf("Redact kept a credential behind a folded letter: %q", got)
	}
	if got := Redact("MANIFEST_UNKNOWN: manifest unknown"); got != "MANIFEST_UNKNOWN: manifest unknown" {
		t.Errorf("Redact changed harmless text: %q", got)
	}
}

// transportError builds the error go-containerregistry returns for resp.
func transportError(t *testing.T, method string, code int, body string) error {
	t.Helper()
	req, _ := http.NewRequest(method, "https://reg.example/v2/a/manifests/latest?token=s3cr3t", nil)
	resp := &http.Response{StatusCode: code, Request: req, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
	err := ggcrtransport.CheckError(resp, http.StatusOK)
	if err == nil {
		t.Fatal("CheckError returned nil")
	}
	return fmt.Errorf("HEAD manifest x: %w", err)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		code      int
		body      string
		wantClass Class
		wantText  string
	}{
		{"manifest unknown", "GET", 404, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}`, NotFound, "MANIFEST_UNKNOWN: manifest unknown"},
		{"head 404", "HEAD", 404, "", NotFound, "404 Not Found"},
		{"name unknown on 400", "GET", 400, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`, RepoUnknown, "NAME_UNKNOWN: repository name not known to registry"},
		{"html 404", "GET", 404, "<html><body>Not Found</body></html>", Other, "reg.example answered 404 with a page that is not a registry's answer (wrong host, or a proxy in the way?)"},
		{"text 404", "GET", 404, "404 page not found", Other, "reg.example answered 404 with a page that is not a registry's answer (wrong host, or a proxy in the way?)"},
		{"unauthorized", "GET", 401, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, Denied, "UNAUTHORIZED: authentication required"},
		{"forbidden plain", "GET", 403, "go away\nsecond line", Denied, "403 Forbidden: go away"},
		{"head 401", "HEAD", 401, "", Denied, "401 Unauthorized"},
		{"rate limited", "GET", 429, "Too Many Requests\n", Other, "429 Too Many Requests: Too Many Requests"},
		{"server error", "GET", 500, "", Other, "500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			class, text := Classify(transportError(t, tt.method, tt.code, tt.body))
			if class != tt.wantClass || text != tt.wantText {
				t.Errorf("Classify = %v, %q; want %v, %q", class, text, tt.wantClass, tt.wantText)
			}
		})
	}
}

func TestClassifyOtherErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain http", wrap(&PlainHTTPError{Host: "10.0.0.5:5000"}, "HEAD manifest %s", "x"), "HEAD manifest x: refusing plain HTTP to 10.0.0.5:5000: not listed under insecure"},
		{"multi-line", errors.New("\n  first line  \nsecond"), "first line"},
		{"secret", wrap(errors.New("Get \"https://u:hunter22@h/v2/\": EOF"), "ping"), `ping: Get "https://[redacted]@h/v2/": EOF`},
		{"long", errors.New(strings.Repeat("x", 1000)), strings.Repeat("x", maxErrorText) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			class, text := Classify(tt.err)
			if class != Other || text != tt.want {
				t.Errorf("Classify = %v, %q; want other, %q", class, text, tt.want)
			}
		})
	}
}

// TestClassifyUnreachableRegistry: a registry that refuses connections is
// described by the refused dial alone, in a person's words ("could not
// reach"), not by ggcr's ping story around it.
func TestClassifyUnreachableRegistry(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()
	c := New(Options{Retries: -1})
	t.Cleanup(c.Close)
	ref, err := c.Reference(host + "/gone/repo:tag")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Head(testContext(t), ref)
	class, text := Classify(err)
	want := "could not reach " + host + ": connection refused"
	if class != Other || text != want {
		t.Errorf("Classify = %v, %q; want other, %q (from %v)", class, text, want, err)
	}
}

func TestLimitedBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		limit   int64
		wantErr bool
	}{
		{"under", 10, 20, false},
		{"exact", 20, 20, false},
		{"one over", 21, 20, true},
		{"far over", 1 << 20, 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &limitedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, tt.size))), host: "h", limit: tt.limit}
			got, err := io.ReadAll(b)
			var tooBig *ManifestTooLargeError
			if errors.As(err, &tooBig) != tt.wantErr {
				t.Fatalf("ReadAll err = %v, want too-large %v", err, tt.wantErr)
			}
			if int64(len(got)) > tt.limit+1 {
				t.Errorf("read %d bytes past a limit of %d", len(got), tt.limit)
			}
		})
	}
}

func TestReplayable(t *testing.T) {
	t.Parallel()
	withBytes, _ := http.NewRequest("PUT", "https://h/v2/a/manifests/x", bytes.NewReader([]byte("{}")))
	noBody, _ := http.NewRequest("GET", "https://h/v2/", nil)
	stream, _ := http.NewRequest("PATCH", "https://h/v2/a/blobs/uploads/1", io.NopCloser(strings.NewReader("layer")))
	reopenable, _ := http.NewRequest("PATCH", "https://h/v2/a/blobs/uploads/1", io.NopCloser(strings.NewReader("layer")))
	reopenable.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("layer")), nil }
	post, _ := http.NewRequest("POST", "https://h/v2/a/blobs/uploads/", nil)
	tests := []struct {
		name string
		req  *http.Request
		want bool
	}{
		{"bytes body", withBytes, true},
		{"no body", noBody, true},
		{"streaming upload", stream, false},
		{"upload even with GetBody", reopenable, false},
		{"bodiless POST", post, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := replayable(tt.req); got != tt.want {
				t.Errorf("replayable = %v, want %v", got, tt.want)
			}
		})
	}
}
