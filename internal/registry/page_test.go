package registry

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

// An error answer is judged by its body, not its Content-Type label
// (isPage): the label lies both ways in front of real registries. Before
// issue 19 the transport went by the label and Classify by the body, and
// both cases below came out wrong.
func TestErrorBodyJudgedByBodyNotLabel(t *testing.T) {
	t.Parallel()
	manifests := testreg.Match{Kinds: []testreg.Kind{testreg.KindManifest}}

	// A proxy that labels the registry's answers text/html: the registry's
	// MANIFEST_UNKNOWN is still its word that the manifest is not there,
	// not some other server's page (which would be could-not-tell).
	t.Run("registry's JSON 404 labelled text/html is not-found", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		_, proxy, _ := proxied(t)
		proxy.Add(testreg.Fault{Match: manifests, Effect: testreg.EffectRelabel, ContentType: "text/html; charset=utf-8"})
		absent := "p/a@sha256:" + strings.Repeat("ab", 32)
		resp, err := http.Get("http://" + proxy.Host() + "/v2/p/a/manifests/sha256:" + strings.Repeat("ab", 32))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("the proxy answered %d %q, want the registry's 404 labelled text/html", resp.StatusCode, ct)
		}
		c := newClient(t, Options{})
		ref, err := c.Reference(proxy.Repo(absent))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Manifest(ctx, ref) // a GET: the digest's bytes are not known
		if cls, text := Classify(err); cls != NotFound || !strings.Contains(text, "MANIFEST_UNKNOWN") {
			t.Errorf("GET of an absent manifest, labelled text/html: %v %q, want not-found, MANIFEST_UNKNOWN", cls, text)
		}
	})

	// nginx's 429 page served as text/plain is still nginx throttling
	// (quay.io), with no word of the registry's: retried until the
	// deadline, then a ThrottledError whose text holds no markup.
	t.Run("nginx's 429 page labelled text/plain is a throttle", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		_, proxy, img := proxied(t)
		proxy.Add(testreg.Fault{Match: manifests, Effect: testreg.EffectStatus, Status: http.StatusTooManyRequests, Body: testreg.ThrottlePage})
		c := newClient(t, Options{RetryDeadline: 600 * time.Millisecond})
		ref, err := c.Reference(proxy.Repo("p/a@" + img.Digest))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Manifest(ctx, ref)
		var te *ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("GET under nginx's page as text/plain: %v (%T), want a ThrottledError", err, err)
		}
		if cls, text := Classify(err); cls != Other || strings.Contains(text, "<") {
			t.Errorf("Classify = %v, %q; want other, no markup", cls, text)
		}
		if len(c.Budgets()) != 0 {
			t.Errorf("budgets %+v after a throttle, want none", c.Budgets())
		}
	})
}

func TestIsPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want bool
	}{
		{testreg.ThrottlePage, true},
		{"\r\n  <!DOCTYPE html><html></html>", true},
		{"\ufeff<html></html>", true},
		{`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, false},
		{"Too Many Requests\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isPage([]byte(tt.body)); got != tt.want {
			t.Errorf("isPage(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
